//! Interprets a fuzz input as a program of vdev ABI calls on rust-visl (FORMAT.md).
//!
//! The interpreter owns every pointer the calls carry: plane arrays, control arrays,
//! control payloads and topology arrays point into its own allocations, sized as the
//! input chooses but never smaller than the counts the structs claim (capped where the
//! UAPI caps them), so a fault is the driver's, not the harness's.  The program ends
//! with every mapping unmapped, every file closed and `vdev_reset`, so each run starts
//! from a freshly probed driver; a reset refused then is a leak and panics.

use std::ffi::{c_int, c_ulong, c_void, CString};
use std::mem::size_of;
use std::ptr;

use rust_visl::abi::{
    vdev_close, vdev_ioctl, vdev_mmap, vdev_munmap, vdev_open, vdev_poll, vdev_read, vdev_reset, vdev_write,
    PollFd,
};

/// `struct pollfd`, whose fields vdev's own `PollFd` keeps private.
#[repr(C)]
struct PollEntry {
    fd: c_int,
    events: i16,
    revents: i16,
}
use uapi::{
    media_v2_entity, media_v2_interface, media_v2_link, media_v2_pad, media_v2_topology, v4l2_buffer,
    v4l2_ext_control, v4l2_ext_controls, v4l2_plane, v4l2_query_ext_ctrl,
};

/// The vocabulary the selector bytes index, shared with conform/probe/replay.py.
const VOCABULARY: &str = include_str!("../vocabulary.txt");

const MAX_OPS: usize = 512;
const MAX_OFFSETS: usize = 64;
/// OPEN does nothing once the fd table holds this many (each video open costs a context).
const MAX_FDS: usize = 32;
const VIDEO_MAX_PLANES: usize = 8;
const MAX_CTRLS: usize = 1024;
const MAX_PAYLOAD: usize = 1 << 20;
const MAX_TOPOLOGY: usize = 64;
const V4L2_MEMORY_MMAP: u32 = 1;
const V4L2_CTRL_FLAG_NEXT_CTRL: u32 = 0x8000_0000;
const V4L2_CTRL_FLAG_NEXT_COMPOUND: u32 = 0x4000_0000;
const O_WRONLY: c_int = 1;
const O_RDWR: c_int = 2;
const O_NONBLOCK: c_int = 0o4000;

/// What an ioctl's argument holds besides plain bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Shape {
    Plain,
    Buffer,
    ExtCtrls,
    Topology,
    QueryExtCtrl,
    RequestAlloc,
}

pub struct Vocabulary {
    pub paths: Vec<CString>,
    /// VIDIOC_QUERYBUF's number: its answers feed the offsets table.
    pub querybuf: u32,
    pub ioctls: Vec<(u32, Shape)>,
    /// Control ids and whether their value sits in the entry (not behind a pointer).
    pub ctrls: Vec<(u32, bool)>,
}

fn number(text: &str) -> u32 {
    let hex = text.strip_prefix("0x").expect("vocabulary.txt numbers are hex");
    u32::from_str_radix(hex, 16).expect("vocabulary.txt numbers are hex")
}

impl Vocabulary {
    /// Parse vocabulary.txt; the file is part of this crate, so a malformed line is a build bug.
    pub fn load() -> Self {
        let mut v = Vocabulary { paths: Vec::new(), querybuf: 0, ioctls: Vec::new(), ctrls: Vec::new() };
        for line in VOCABULARY.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["path", path] => v.paths.push(CString::new(*path).expect("no NUL in a path")),
                ["ioctl", _, value, shape] => {
                    let shape = match *shape {
                        "plain" => Shape::Plain,
                        "buffer" => Shape::Buffer,
                        "ext_ctrls" => Shape::ExtCtrls,
                        "topology" => Shape::Topology,
                        "query_ext_ctrl" => Shape::QueryExtCtrl,
                        "request_alloc" => Shape::RequestAlloc,
                        other => panic!("vocabulary.txt: unknown ioctl shape {other}"),
                    };
                    if words[1] == "VIDIOC_QUERYBUF" {
                        v.querybuf = number(value);
                    }
                    v.ioctls.push((number(value), shape));
                }
                ["ctrl", _, value, shape] => v.ctrls.push((number(value), *shape == "value")),
                _ => {}
            }
        }
        v
    }

    fn shape_of(&self, request: u32) -> Shape {
        self.ioctls.iter().find(|(n, _)| *n == request).map_or(Shape::Plain, |(_, s)| *s)
    }

    fn is_value_ctrl(&self, id: u32) -> bool {
        self.ctrls.iter().any(|(c, value)| *c == id && *value)
    }
}

/// The input, read front to back; past its end every byte reads as zero.
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Cursor { data, pos: 0 }
    }
    fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }
    fn bytes(&mut self, dest: &mut [u8]) {
        let start = self.pos.min(self.data.len());
        let end = self.pos.saturating_add(dest.len()).min(self.data.len());
        let n = end - start;
        dest[..n].copy_from_slice(&self.data[start..end]);
        dest[n..].fill(0);
        self.pos = self.pos.saturating_add(dest.len());
    }
    fn u8(&mut self) -> u8 {
        let mut b = [0; 1];
        self.bytes(&mut b);
        b[0]
    }
    fn u16(&mut self) -> u16 {
        let mut b = [0; 2];
        self.bytes(&mut b);
        u16::from_le_bytes(b)
    }
    fn u32(&mut self) -> u32 {
        let mut b = [0; 4];
        self.bytes(&mut b);
        u32::from_le_bytes(b)
    }
}

/// Zeroed memory of `len` bytes, 16-byte aligned, that the harness owns.
struct Block(Vec<u128>);

impl Block {
    fn new(len: usize) -> Self {
        Block(vec![0; len.div_ceil(16).max(1)])
    }
    fn ptr(&mut self) -> *mut u8 {
        self.0.as_mut_ptr().cast()
    }
    fn bytes_mut(&mut self, len: usize) -> &mut [u8] {
        // SAFETY: the block holds at least `len` bytes (new rounds up), u128s have no padding.
        unsafe { std::slice::from_raw_parts_mut(self.ptr(), len) }
    }
    /// The block's start as a `T`.
    ///
    /// # Safety
    ///
    /// The block must hold at least `size_of::<T>()` bytes; `T` must accept any bit pattern.
    unsafe fn as_mut<T>(&mut self) -> &mut T {
        // SAFETY: the caller promises the size; 16-byte alignment covers every UAPI struct.
        unsafe { &mut *self.ptr().cast::<T>() }
    }
}

struct Mapping {
    address: *mut c_void,
    length: usize,
    writable: bool,
}

struct Fd {
    number: c_int,
    open: bool,
}

/// The program's state: the tables the selector bytes index.
struct Machine<'v> {
    vocabulary: &'v Vocabulary,
    fds: Vec<Fd>,
    /// (mem_offset, length) of every plane a successful QUERYBUF reported, first 64.
    offsets: Vec<(u32, u32)>,
    maps: Vec<Mapping>,
}

impl Machine<'_> {
    fn fd(&self, selector: u8) -> c_int {
        if selector == 0xFF || self.fds.is_empty() {
            return -1;
        }
        self.fds[selector as usize % self.fds.len()].number
    }

    fn push_fd(&mut self, number: c_int) {
        self.fds.push(Fd { number, open: true });
    }

    fn step(&mut self, input: &mut Cursor<'_>) {
        match input.u8() % 9 {
            0 => {
                let path = &self.vocabulary.paths[input.u8() as usize % self.vocabulary.paths.len()];
                let flags = input.u8();
                let mut mode = match (flags >> 1) & 3 {
                    0 => 0,
                    1 => O_WRONLY,
                    _ => O_RDWR,
                };
                if flags & 1 != 0 {
                    mode |= O_NONBLOCK;
                }
                if self.fds.len() >= MAX_FDS {
                    return;
                }
                // SAFETY: a NUL-terminated string.
                let fd = unsafe { vdev_open(path.as_ptr(), mode) };
                if fd >= 0 {
                    self.push_fd(fd);
                }
            }
            1 => {
                let fd = self.fd(input.u8());
                if vdev_close(fd) == 0 {
                    for entry in self.fds.iter_mut().filter(|e| e.number == fd) {
                        entry.open = false;
                    }
                }
            }
            2 => self.ioctl(input),
            3 => {
                let fd = self.fd(input.u8());
                let slot = input.u8();
                let raw_offset = input.u32();
                let raw_length = input.u32();
                let prot = c_int::from(input.u8() & 3);
                let (offset, length) = if slot == 0xFF || self.offsets.is_empty() {
                    (raw_offset, if raw_length == 0 { 4096 } else { raw_length })
                } else {
                    let (offset, length) = self.offsets[slot as usize % self.offsets.len()];
                    (offset, if raw_length == 0 { length } else { raw_length })
                };
                let mut address = ptr::null_mut();
                // SAFETY: `address` is room for one pointer.
                let ret = unsafe { vdev_mmap(fd, i64::from(offset), length as usize, prot, &mut address) };
                if ret == 0 {
                    self.maps.push(Mapping { address, length: length as usize, writable: prot & 2 != 0 });
                }
            }
            4 => {
                let slot = input.u8() as usize;
                if !self.maps.is_empty() {
                    let map = self.maps.remove(slot % self.maps.len());
                    vdev_munmap(map.address, map.length);
                }
            }
            5 => {
                let n = input.u8() % 4 + 1;
                let mut entries: Vec<PollEntry> = (0..n)
                    .map(|_| {
                        let fd = self.fd(input.u8());
                        let bits = input.u8();
                        let events = i16::from(bits & 0x7F) | if bits & 0x80 != 0 { 0x100 } else { 0 };
                        PollEntry { fd, events, revents: 0 }
                    })
                    .collect();
                // SAFETY: `entries` holds `n` entries laid out as struct pollfd, as PollFd is.
                unsafe { vdev_poll(entries.as_mut_ptr().cast::<PollFd>(), c_ulong::from(n), 0) };
            }
            6 => {
                let fd = self.fd(input.u8());
                let count = input.u16() as usize;
                let mut buf = Block::new(count);
                // SAFETY: `buf` holds `count` bytes.
                unsafe { vdev_read(fd, buf.ptr().cast(), count) };
            }
            7 => {
                let fd = self.fd(input.u8());
                let n = input.u8() as usize;
                let mut buf = Block::new(n);
                input.bytes(buf.bytes_mut(n));
                // SAFETY: `buf` holds `n` bytes.
                unsafe { vdev_write(fd, buf.ptr().cast(), n) };
            }
            _ => {
                let slot = input.u8() as usize;
                let offset = input.u32() as usize;
                let n = input.u16() as usize;
                let mut data = vec![0; n];
                input.bytes(&mut data);
                if let Some(map) = self.maps.get(slot % self.maps.len().max(1)) {
                    let start = offset % map.length;
                    let n = n.min(map.length - start);
                    // SAFETY: vdev_mmap succeeded for `length` bytes and the mapping is live
                    // (it leaves `maps` on munmap); [start, start + n) lies inside it.
                    let memory = unsafe { std::slice::from_raw_parts_mut(map.address.cast::<u8>(), map.length) };
                    if map.writable {
                        memory[start..start + n].copy_from_slice(&data[..n]);
                    } else {
                        data[..n].copy_from_slice(&memory[start..start + n]);
                        std::hint::black_box(&data);
                    }
                }
            }
        }
    }

    fn ioctl(&mut self, input: &mut Cursor<'_>) {
        let fd = self.fd(input.u8());
        let selector = input.u8();
        let request = if selector == 0xFF {
            input.u32()
        } else {
            self.vocabulary.ioctls[selector as usize % self.vocabulary.ioctls.len()].0
        };
        let shape = self.vocabulary.shape_of(request);
        let size = ((request >> 16) & 0x3fff) as usize;
        let mut arg = Block::new(size);
        input.bytes(arg.bytes_mut(size));
        // Memory the argument's pointers point to; it outlives the call.
        let mut blocks: Vec<Block> = Vec::new();
        let mut planes_allocated = 0;
        let mut planes_ptr: *mut v4l2_plane = ptr::null_mut();
        match shape {
            Shape::Plain | Shape::RequestAlloc => {}
            Shape::Buffer => {
                let planes = input.u8();
                let request_fd = input.u8();
                let given = if planes == 0xFF { 0 } else { planes as usize % (VIDEO_MAX_PLANES + 1) };
                // SAFETY: a v4l2_buffer-sized argument (the number encodes it); any bit pattern.
                let b = unsafe { arg.as_mut::<v4l2_buffer>() };
                if request_fd & 0x80 != 0 {
                    b.__bindgen_anon_1.request_fd = self.fd(request_fd & 0x7F);
                }
                planes_allocated = given.max((b.length as usize).min(VIDEO_MAX_PLANES));
                let mut array = Block::new(planes_allocated.max(1) * size_of::<v4l2_plane>());
                input.bytes(array.bytes_mut(given * size_of::<v4l2_plane>()));
                if planes == 0xFF {
                    b.m.planes = ptr::null_mut();
                    planes_allocated = 0;
                } else {
                    planes_ptr = array.ptr().cast();
                    b.m.planes = planes_ptr;
                }
                blocks.push(array);
            }
            Shape::ExtCtrls => {
                let ctrls = input.u8();
                let request_fd = input.u8();
                let given = if ctrls == 0xFF { 0 } else { (ctrls & 0x3F) as usize };
                let mut entries: Vec<v4l2_ext_control> = Vec::with_capacity(given);
                for _ in 0..given {
                    let mut raw = [0u8; size_of::<v4l2_ext_control>()];
                    input.bytes(&mut raw);
                    // SAFETY: 20 bytes into a packed 20-byte POD struct.
                    let mut entry: v4l2_ext_control = unsafe { ptr::read_unaligned(raw.as_ptr().cast()) };
                    let sel = input.u8();
                    let len = input.u16() as usize;
                    if let Some((id, _)) = self.vocabulary.ctrls.get((sel & 0x3F) as usize) {
                        entry.id = *id;
                    }
                    let mut payload = Block::new(len);
                    input.bytes(payload.bytes_mut(len));
                    let value_mode = sel & 0x40 == 0 && self.vocabulary.is_value_ctrl(entry.id);
                    if !value_mode {
                        let raw_size = entry.size as usize;
                        if sel & 0x80 == 0 {
                            // CAST: len is a u16.
                            entry.size = len as u32;
                        }
                        if len == 0 {
                            entry.__bindgen_anon_1.p_u8 = ptr::null_mut();
                        } else {
                            let room = if sel & 0x80 != 0 { len.max(raw_size.min(MAX_PAYLOAD)) } else { len };
                            let mut full = Block::new(room);
                            full.bytes_mut(len).copy_from_slice(payload.bytes_mut(len));
                            entry.__bindgen_anon_1.p_u8 = full.ptr();
                            blocks.push(full);
                        }
                    }
                    entries.push(entry);
                }
                // SAFETY: a v4l2_ext_controls-sized argument; any bit pattern.
                let header = unsafe { arg.as_mut::<v4l2_ext_controls>() };
                if request_fd & 0x80 != 0 {
                    header.request_fd = self.fd(request_fd & 0x7F);
                }
                if ctrls & 0x40 == 0 {
                    // CAST: given is at most 63.
                    header.count = given as u32;
                }
                if ctrls == 0xFF {
                    header.controls = ptr::null_mut();
                } else {
                    let room = given.max((header.count as usize).min(MAX_CTRLS)).max(1);
                    let mut array = Block::new(room * size_of::<v4l2_ext_control>());
                    let array_ptr = array.ptr().cast::<v4l2_ext_control>();
                    for (i, entry) in entries.iter().enumerate() {
                        // SAFETY: the array has room for `room >= given` entries; packed, so unaligned.
                        unsafe { ptr::write_unaligned(array_ptr.add(i), *entry) };
                    }
                    header.controls = array_ptr;
                    blocks.push(array);
                }
            }
            Shape::Topology => {
                let choices = [input.u8(), input.u8(), input.u8(), input.u8()];
                // SAFETY: a media_v2_topology-sized argument; any bit pattern.
                let topo = unsafe { arg.as_mut::<media_v2_topology>() };
                // The struct is packed: work on copies of the four (num, ptr) pairs.
                let mut slots = [
                    (topo.num_entities, topo.ptr_entities, size_of::<media_v2_entity>()),
                    (topo.num_interfaces, topo.ptr_interfaces, size_of::<media_v2_interface>()),
                    (topo.num_pads, topo.ptr_pads, size_of::<media_v2_pad>()),
                    (topo.num_links, topo.ptr_links, size_of::<media_v2_link>()),
                ];
                for ((num, pointer, entry_size), choice) in slots.iter_mut().zip(choices) {
                    if choice == 0xFF {
                        *pointer = 0;
                        continue;
                    }
                    let given = (choice & 0x3F) as usize;
                    if choice & 0x40 == 0 {
                        // CAST: given is at most 63.
                        *num = given as u32;
                    }
                    let room = given.max((*num as usize).min(MAX_TOPOLOGY)).max(1);
                    let mut array = Block::new(room * *entry_size);
                    *pointer = array.ptr() as u64;
                    blocks.push(array);
                }
                (topo.num_entities, topo.ptr_entities) = (slots[0].0, slots[0].1);
                (topo.num_interfaces, topo.ptr_interfaces) = (slots[1].0, slots[1].1);
                (topo.num_pads, topo.ptr_pads) = (slots[2].0, slots[2].1);
                (topo.num_links, topo.ptr_links) = (slots[3].0, slots[3].1);
            }
            Shape::QueryExtCtrl => {
                let sel = input.u8();
                // SAFETY: a v4l2_query_ext_ctrl-sized argument; any bit pattern.
                let query = unsafe { arg.as_mut::<v4l2_query_ext_ctrl>() };
                if let Some((id, _)) = self.vocabulary.ctrls.get((sel & 0x3F) as usize) {
                    query.id = *id;
                    if sel & 0x40 != 0 {
                        query.id |= V4L2_CTRL_FLAG_NEXT_CTRL;
                    }
                    if sel & 0x80 != 0 {
                        query.id |= V4L2_CTRL_FLAG_NEXT_COMPOUND;
                    }
                }
            }
        }
        let pointer = if size == 0 { ptr::null_mut() } else { arg.ptr().cast::<c_void>() };
        // SAFETY: `pointer` is NULL or holds `size` bytes, the size the number encodes, and every
        // pointer inside points to harness memory as large as the struct's counts claim.
        let ret = unsafe { vdev_ioctl(fd, c_ulong::from(request), pointer) };
        if ret < 0 {
            return;
        }
        match shape {
            Shape::RequestAlloc => {
                // SAFETY: a 4-byte argument the driver filled with the new fd.
                let request_fd = unsafe { *arg.as_mut::<c_int>() };
                self.push_fd(request_fd);
            }
            Shape::Buffer if request == self.vocabulary.querybuf => {
                // Learn the planes' mmap offsets.
                // SAFETY: as above.
                let b = unsafe { arg.as_mut::<v4l2_buffer>() };
                if b.memory != V4L2_MEMORY_MMAP || planes_allocated == 0 {
                    return;
                }
                let count = (b.length as usize).min(planes_allocated);
                // SAFETY: the harness's planes array, `planes_allocated` entries, still alive in `blocks`.
                let planes = unsafe { std::slice::from_raw_parts(planes_ptr, count) };
                for plane in planes {
                    if self.offsets.len() < MAX_OFFSETS {
                        // SAFETY: mem_offset is the MMAP member of the plane union.
                        self.offsets.push((unsafe { plane.m.mem_offset }, plane.length));
                    }
                }
            }
            _ => {}
        }
        drop(blocks);
    }

    fn teardown(&mut self) {
        for map in self.maps.drain(..) {
            vdev_munmap(map.address, map.length);
        }
        for fd in self.fds.iter().filter(|fd| fd.open) {
            vdev_close(fd.number);
        }
        let ret = vdev_reset();
        assert_eq!(ret, 0, "vdev_reset refused after every file was closed and every mapping undone");
    }
}

/// Run one program; every run starts and ends with a freshly probed driver.
pub fn run(vocabulary: &Vocabulary, data: &[u8]) {
    let mut machine = Machine { vocabulary, fds: Vec::new(), offsets: Vec::new(), maps: Vec::new() };
    let mut input = Cursor::new(data);
    let mut ops = 0;
    while !input.at_end() && ops < MAX_OPS {
        machine.step(&mut input);
        ops += 1;
    }
    machine.teardown();
}
