//! The media controller: graph objects with the kernel's id scheme, and the graph ioctls
//! of mc-device.c (DEVICE_INFO, G_TOPOLOGY, ENUM_ENTITIES, ENUM_LINKS, SETUP_LINK).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use uapi::{
    media_device_info, media_entity_desc, media_link_desc, media_links_enum, media_pad_desc, media_v2_entity,
    media_v2_interface, media_v2_link, media_v2_pad, media_v2_topology, MEDIA_ENT_F_IO_V4L,
    MEDIA_ENT_F_OLD_BASE, MEDIA_ENT_F_PROC_VIDEO_DECODER, MEDIA_ENT_F_TUNER, MEDIA_ENT_ID_FLAG_NEXT,
    MEDIA_ENT_T_DEVNODE_UNKNOWN, MEDIA_INTF_T_V4L_VIDEO, MEDIA_LNK_FL_DATA_LINK, MEDIA_LNK_FL_ENABLED,
    MEDIA_LNK_FL_IMMUTABLE, MEDIA_LNK_FL_INTERFACE_LINK, MEDIA_LNK_FL_LINK_TYPE, MEDIA_PAD_FL_SINK,
    MEDIA_PAD_FL_SOURCE,
};

use crate::error::{Errno, Result};
use crate::format::set_cchars;
use crate::ioctl::LINUX_VERSION_CODE;

/// Graph object types, the top byte of every media id (media_gobj_gen_id).
#[derive(Clone, Copy)]
enum GobjType {
    Entity = 0,
    Pad = 1,
    Link = 2,
    InterfaceDevnode = 3,
}

pub struct Entity {
    pub id: u32,
    pub name: String,
    pub function: u32,
    /// `media_entity.info.dev`: the device node (major, minor) of an I/O entity, else (0, 0).
    pub dev: (u32, u32),
}

pub struct Pad {
    pub id: u32,
    pub entity_id: u32,
    pub index: u32,
    pub flags: u32,
}

pub struct Link {
    pub id: u32,
    pub source_id: u32,
    pub sink_id: u32,
    pub flags: u32,
}

pub struct Interface {
    pub id: u32,
    pub intf_type: u32,
    pub major: u32,
    pub minor: u32,
}

/// A media device's graph.
///
/// # Invariants
///
/// Ids are unique: each comes from `serial`, which only grows, in creation order.
#[derive(Default)]
pub struct Graph {
    serial: u32,
    pub entities: Vec<Entity>,
    pub pads: Vec<Pad>,
    /// Forward links only; each has a hidden backlink that consumed the next id.
    pub links: Vec<Link>,
    pub interfaces: Vec<Interface>,
}

impl Graph {
    fn next_id(&mut self, kind: GobjType) -> u32 {
        // INVARIANT: serial grows by one per object.
        self.serial += 1;
        ((kind as u32) << 24) | self.serial
    }

    fn entity(&mut self, name: String, function: u32, pad_flags: &[u32]) -> (u32, Vec<u32>) {
        let id = self.next_id(GobjType::Entity);
        self.entities.push(Entity { id, name, function, dev: (0, 0) });
        let pads = pad_flags
            .iter()
            .enumerate()
            .map(|(index, &flags)| {
                let pad = self.next_id(GobjType::Pad);
                // CAST: an entity has a handful of pads.
                self.pads.push(Pad { id: pad, entity_id: id, index: index as u32, flags });
                pad
            })
            .collect();
        (id, pads)
    }

    /// v4l2_m2m_register_entity: the source and sink entities carry the video node's number.
    fn set_dev(&mut self, entity: u32, dev: (u32, u32)) {
        if let Some(e) = self.entities.iter_mut().find(|e| e.id == entity) {
            e.dev = dev;
        }
    }

    fn link(&mut self, source_id: u32, sink_id: u32, flags: u32, backlink: bool) {
        let id = self.next_id(GobjType::Link);
        self.links.push(Link { id, source_id, sink_id, flags });
        if backlink {
            self.next_id(GobjType::Link);
        }
    }

    /// The graph `v4l2_m2m_register_media_controller` builds for a decoder: source, proc
    /// and sink entities, their data links, and the video node's interface linked to the
    /// two I/O entities.  Entities are named after the video node: `<name>-source` etc.
    pub fn m2m_decoder(name: &str, devnode: (u32, u32)) -> Self {
        let mut graph = Graph::default();
        let fixed = MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_IMMUTABLE;
        let (source, source_pads) =
            graph.entity(format!("{name}-source"), MEDIA_ENT_F_IO_V4L, &[MEDIA_PAD_FL_SOURCE]);
        graph.set_dev(source, devnode);
        let (_, proc_pads) = graph.entity(
            format!("{name}-proc"),
            MEDIA_ENT_F_PROC_VIDEO_DECODER,
            &[MEDIA_PAD_FL_SINK, MEDIA_PAD_FL_SOURCE],
        );
        let (sink, sink_pads) =
            graph.entity(format!("{name}-sink"), MEDIA_ENT_F_IO_V4L, &[MEDIA_PAD_FL_SINK]);
        graph.set_dev(sink, devnode);
        graph.link(source_pads[0], proc_pads[0], fixed, true);
        graph.link(proc_pads[1], sink_pads[0], fixed, true);
        let intf = graph.next_id(GobjType::InterfaceDevnode);
        graph.interfaces.push(Interface {
            id: intf,
            intf_type: MEDIA_INTF_T_V4L_VIDEO,
            major: devnode.0,
            minor: devnode.1,
        });
        graph.link(intf, source, fixed | MEDIA_LNK_FL_INTERFACE_LINK, false);
        graph.link(intf, sink, fixed | MEDIA_LNK_FL_INTERFACE_LINK, false);
        graph
    }
}

/// What MEDIA_IOC_DEVICE_INFO reports.
pub struct MediaInfo {
    pub driver: &'static str,
    pub model: &'static str,
    pub bus_info: &'static str,
}

pub fn device_info(info: &MediaInfo, out: &mut media_device_info) {
    *out = media_device_info::default();
    set_cchars(&mut out.driver, info.driver);
    set_cchars(&mut out.model, info.model);
    set_cchars(&mut out.bus_info, info.bus_info);
    out.media_version = LINUX_VERSION_CODE;
    out.driver_version = LINUX_VERSION_CODE;
}

/// Where G_TOPOLOGY writes: the caller turns the user's array pointers into slices.
pub trait TopologySink {
    fn entities(&mut self, entries: &[media_v2_entity]) -> Result;
    fn interfaces(&mut self, entries: &[media_v2_interface]) -> Result;
    fn pads(&mut self, entries: &[media_v2_pad]) -> Result;
    fn links(&mut self, entries: &[media_v2_link]) -> Result;
}

/// MEDIA_IOC_G_TOPOLOGY: counts always, arrays where userspace gave room (ENOSPC if too little).
pub fn get_topology(graph: &Graph, topo: &mut media_v2_topology, sink: &mut dyn TopologySink) -> Result {
    let entities: Vec<media_v2_entity> = graph
        .entities
        .iter()
        .map(|e| {
            let mut out = media_v2_entity { id: e.id, function: e.function, ..Default::default() };
            set_cchars(&mut out.name, &e.name);
            out
        })
        .collect();
    let interfaces: Vec<media_v2_interface> = graph
        .interfaces
        .iter()
        .map(|i| {
            let mut out = media_v2_interface { id: i.id, intf_type: i.intf_type, ..Default::default() };
            out.__bindgen_anon_1.devnode.major = i.major;
            out.__bindgen_anon_1.devnode.minor = i.minor;
            out
        })
        .collect();
    let pads: Vec<media_v2_pad> = graph
        .pads
        .iter()
        .map(|p| media_v2_pad {
            id: p.id,
            entity_id: p.entity_id,
            flags: p.flags,
            index: p.index,
            ..Default::default()
        })
        .collect();
    let links: Vec<media_v2_link> = graph
        .links
        .iter()
        .map(|l| media_v2_link {
            id: l.id,
            source_id: l.source_id,
            sink_id: l.sink_id,
            flags: l.flags,
            ..Default::default()
        })
        .collect();
    let room = (topo.num_entities, topo.num_interfaces, topo.num_pads, topo.num_links);
    fn fits(room: u32, len: usize) -> Result {
        // CAST: graphs hold a handful of objects.
        if (room as usize) < len {
            Err(Errno::ENOSPC)
        } else {
            Ok(())
        }
    }
    if topo.ptr_entities != 0 {
        fits(room.0, entities.len())?;
        sink.entities(&entities)?;
    }
    if topo.ptr_interfaces != 0 {
        fits(room.1, interfaces.len())?;
        sink.interfaces(&interfaces)?;
    }
    if topo.ptr_pads != 0 {
        fits(room.2, pads.len())?;
        sink.pads(&pads)?;
    }
    if topo.ptr_links != 0 {
        fits(room.3, links.len())?;
        sink.links(&links)?;
    }
    // CAST: as above.
    topo.num_entities = entities.len() as u32;
    topo.num_interfaces = interfaces.len() as u32;
    topo.num_pads = pads.len() as u32;
    topo.num_links = links.len() as u32;
    topo.topology_version = 0;
    topo.reserved1 = 0;
    topo.reserved2 = 0;
    topo.reserved3 = 0;
    topo.reserved4 = 0;
    Ok(())
}

/// find_entity: the entity with this id or, with MEDIA_ENT_ID_FLAG_NEXT, the first one
/// after it in the device's list (creation order, so ascending ids).
fn find_entity(graph: &Graph, id: u32) -> Option<&Entity> {
    let next = id & MEDIA_ENT_ID_FLAG_NEXT != 0;
    let id = id & !MEDIA_ENT_ID_FLAG_NEXT;
    graph.entities.iter().find(|e| if next { e.id > id } else { e.id == id })
}

impl Graph {
    fn pad(&self, id: u32) -> Option<&Pad> {
        self.pads.iter().find(|p| p.id == id)
    }

    fn entity_pads(&self, entity: u32) -> impl Iterator<Item = &Pad> {
        self.pads.iter().filter(move |p| p.entity_id == entity)
    }

    /// The data links leaving an entity, in its `links` list order (backlinks skipped).
    fn links_from(&self, entity: u32) -> impl Iterator<Item = (&Link, &Pad, &Pad)> {
        self.links.iter().filter_map(move |l| {
            if l.flags & MEDIA_LNK_FL_LINK_TYPE != MEDIA_LNK_FL_DATA_LINK {
                return None;
            }
            let (source, sink) = (self.pad(l.source_id)?, self.pad(l.sink_id)?);
            (source.entity_id == entity).then_some((l, source, sink))
        })
    }
}

/// media_device_kpad_to_upad, into a descriptor the caller zeroed: field stores only, so
/// the two padding bytes after `index` stay zero as the kernel's memset leaves them.
fn fill_pad(desc: &mut media_pad_desc, pad: &Pad) {
    desc.entity = pad.entity_id;
    // CAST: pad indices are below an entity's handful of pads.
    desc.index = pad.index as u16;
    desc.flags = pad.flags;
}

/// MEDIA_IOC_ENUM_ENTITIES (media_device_enum_entities).
pub fn enum_entities(graph: &Graph, entd: &mut media_entity_desc) -> Result {
    let ent = find_entity(graph, entd.id).ok_or(Errno::EINVAL)?;
    *entd = media_entity_desc::default();
    entd.id = ent.id;
    set_cchars(&mut entd.name, &ent.name);
    entd.type_ = ent.function;
    // CAST: an entity has a handful of pads and links.
    entd.pads = graph.entity_pads(ent.id).count() as u16;
    entd.links = graph.links_from(ent.id).count() as u16;
    // The kernel's media-ctl <= 1.10 workaround: functions outside the old ranges are
    // reported as an unknown devnode, except I/O entities (no subdevs here).
    if (ent.function < MEDIA_ENT_F_OLD_BASE || ent.function > MEDIA_ENT_F_TUNER)
        && ent.function != MEDIA_ENT_F_IO_V4L
    {
        entd.type_ = MEDIA_ENT_T_DEVNODE_UNKNOWN;
    }
    entd.__bindgen_anon_1.dev.major = ent.dev.0;
    entd.__bindgen_anon_1.dev.minor = ent.dev.1;
    Ok(())
}

/// Where ENUM_LINKS writes: entry by entry to the user's arrays, as copy_to_user does.
/// Each entry's bytes go out as they are, padding included (zero).
pub trait LinksSink {
    fn pad(&mut self, index: usize, desc: &media_pad_desc) -> Result;
    fn link(&mut self, index: usize, desc: &media_link_desc) -> Result;
}

/// MEDIA_IOC_ENUM_LINKS (media_device_enum_links): the entity's pads and its outgoing
/// data links, to the arrays userspace gave (each only if non-NULL).
pub fn enum_links(graph: &Graph, links: &mut media_links_enum, sink: &mut dyn LinksSink) -> Result {
    let entity = find_entity(graph, links.entity).ok_or(Errno::EINVAL)?.id;
    if !links.pads.is_null() {
        for (index, pad) in graph.entity_pads(entity).enumerate() {
            // SAFETY: a struct of integers, for which all-zero bytes (padding included, as
            // the kernel's memset leaves it) are a valid value.
            let mut desc: media_pad_desc = unsafe { core::mem::zeroed() };
            fill_pad(&mut desc, pad);
            sink.pad(index, &desc)?;
        }
    }
    if !links.links.is_null() {
        for (index, (link, source, sink_pad)) in graph.links_from(entity).enumerate() {
            // SAFETY: as above: integers and two pad descriptors.
            let mut desc: media_link_desc = unsafe { core::mem::zeroed() };
            fill_pad(&mut desc.source, source);
            fill_pad(&mut desc.sink, sink_pad);
            desc.flags = link.flags;
            sink.link(index, &desc)?;
        }
    }
    links.reserved = [0; 4];
    Ok(())
}

/// MEDIA_IOC_SETUP_LINK (media_device_setup_link, __media_entity_setup_link).  Every link
/// of an m2m graph is immutable, so only re-stating its flags succeeds.
pub fn setup_link(graph: &Graph, linkd: &mut media_link_desc) -> Result {
    let source = find_entity(graph, linkd.source.entity).ok_or(Errno::EINVAL)?.id;
    let sink = find_entity(graph, linkd.sink.entity).ok_or(Errno::EINVAL)?.id;
    let (source_index, sink_index) = (u32::from(linkd.source.index), u32::from(linkd.sink.index));
    // CAST: as above.
    if source_index >= graph.entity_pads(source).count() as u32
        || sink_index >= graph.entity_pads(sink).count() as u32
    {
        return Err(Errno::EINVAL);
    }
    // media_entity_find_link: a link in the source's list from that pad to that pad
    // (its backlinks have their source elsewhere, so only forward links can match).
    let (link, ..) = graph
        .links_from(source)
        .find(|(_, s, k)| s.index == source_index && k.entity_id == sink && k.index == sink_index)
        .ok_or(Errno::EINVAL)?;
    let mask = MEDIA_LNK_FL_ENABLED;
    if link.flags & !mask != linkd.flags & !mask {
        return Err(Errno::EINVAL);
    }
    if link.flags & MEDIA_LNK_FL_IMMUTABLE == 0 {
        // Unreachable with these graphs: no link can change, so none is dynamic either.
        return if link.flags == linkd.flags { Ok(()) } else { Err(Errno::EBUSY) };
    }
    if link.flags != linkd.flags {
        return Err(Errno::EINVAL);
    }
    // The argument goes back to userspace only on success, with reserved cleared.
    linkd.reserved = [0; 2];
    Ok(())
}
