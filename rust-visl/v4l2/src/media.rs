//! The media controller: graph objects with the kernel's id scheme, and the two
//! read-only ioctls of media-device.c (DEVICE_INFO, G_TOPOLOGY).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use uapi::{
    media_device_info, media_v2_entity, media_v2_interface, media_v2_link, media_v2_pad, media_v2_topology,
    MEDIA_ENT_F_IO_V4L, MEDIA_ENT_F_PROC_VIDEO_DECODER, MEDIA_INTF_T_V4L_VIDEO, MEDIA_LNK_FL_ENABLED,
    MEDIA_LNK_FL_IMMUTABLE, MEDIA_LNK_FL_INTERFACE_LINK, MEDIA_PAD_FL_SINK, MEDIA_PAD_FL_SOURCE,
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
        self.entities.push(Entity { id, name, function });
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
        let (_, proc_pads) = graph.entity(
            format!("{name}-proc"),
            MEDIA_ENT_F_PROC_VIDEO_DECODER,
            &[MEDIA_PAD_FL_SINK, MEDIA_PAD_FL_SOURCE],
        );
        let (sink, sink_pads) =
            graph.entity(format!("{name}-sink"), MEDIA_ENT_F_IO_V4L, &[MEDIA_PAD_FL_SINK]);
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
