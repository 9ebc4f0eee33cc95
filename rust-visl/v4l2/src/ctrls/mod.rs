//! The control framework (v4l2-ctrls-core.c and v4l2-ctrls-api.c): a per-file handler,
//! QUERY_EXT_CTRL, and G/S/TRY_EXT_CTRLS with the core's checks, error_idx rules and
//! compound validation.  Request values come with the request API.

mod defs;
mod pod;
mod validate;

pub use pod::load;

use alloc::vec;
use alloc::vec::Vec;

use uapi::*;

pub use defs::{Config, Definition, Kind, STATELESS_DEFINITIONS};

use crate::error::{Errno, Result};
use crate::format::set_cchars;
use crate::request::CtrlObject;
use defs::definition;

/// One control in a handler: its definition, configuration and current value.
pub struct Control {
    pub def: &'static Definition,
    pub config: Config,
    /// The current value: the payload of a compound or array control, else the number.
    pub value: Value,
}

/// A control's current value.
#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Payload { bytes: Vec<u8>, elems: u32 },
    None,
}

impl Control {
    fn elem_size(&self) -> u32 {
        // CAST: UAPI structs are well below 4 GiB.
        match self.def.kind {
            Kind::Compound { size, .. } => size as u32,
            Kind::U32 { .. } | Kind::Menu { .. } | Kind::Class => 4,
        }
    }

    fn default_value(&self) -> Value {
        match self.def.kind {
            Kind::Class => Value::None,
            Kind::Menu { default, .. } => Value::Int(default),
            Kind::Compound { size, init, .. } => {
                let mut bytes = vec![0; size];
                init(&mut bytes);
                Value::Payload { bytes, elems: 1 }
            }
            Kind::U32 { .. } => Value::Payload { bytes: vec![0; 4], elems: 1 },
        }
    }

    fn flags(&self) -> u32 {
        let mut flags = match self.def.kind {
            Kind::Class => V4L2_CTRL_FLAG_READ_ONLY | V4L2_CTRL_FLAG_WRITE_ONLY,
            Kind::Menu { .. } => 0,
            Kind::Compound { .. } | Kind::U32 { .. } => V4L2_CTRL_FLAG_HAS_PAYLOAD,
        };
        if self.config.dynamic_array.is_some() {
            flags |= V4L2_CTRL_FLAG_DYNAMIC_ARRAY | V4L2_CTRL_FLAG_HAS_PAYLOAD;
        }
        flags
    }

    fn query(&self, q: &mut v4l2_query_ext_ctrl) {
        *q = v4l2_query_ext_ctrl { id: self.def.id, ..Default::default() };
        set_cchars(&mut q.name, self.def.name);
        q.flags = self.flags();
        q.elem_size = self.elem_size();
        q.elems = match &self.value {
            Value::Payload { elems, .. } => *elems,
            _ => 1,
        };
        if let Some(max) = self.config.dynamic_array {
            q.nr_of_dims = 1;
            q.dims[0] = max;
        }
        match self.def.kind {
            Kind::Class => q.type_ = V4L2_CTRL_TYPE_CTRL_CLASS,
            Kind::Menu { max, default, .. } => {
                q.type_ = V4L2_CTRL_TYPE_MENU;
                (q.maximum, q.step, q.default_value) = (max, 1, default);
            }
            Kind::Compound { ctrl_type, .. } => q.type_ = ctrl_type,
            Kind::U32 { min, max, step } => {
                q.type_ = V4L2_CTRL_TYPE_U32;
                (q.minimum, q.maximum, q.step) = (min, max, step);
            }
        }
    }
}

/// The controls of one file handle (`struct v4l2_ctrl_handler`), sorted by id.
pub struct Handler {
    pub controls: Vec<Control>,
    /// Ids of controls whose current value an S_EXT_CTRLS or a request just changed, for
    /// the control events of the caller (new_to_cur's send_event).
    pub changed: Vec<u32>,
}

/// Moves payloads between the handler and the memory a `v4l2_ext_control` points at;
/// the ABI edge owns the pointers (copy_from_user / copy_to_user).
pub trait PayloadIo {
    fn read(&mut self, ctrl: &v4l2_ext_control, bytes: &mut [u8]) -> Result;
    fn write(&mut self, ctrl: &v4l2_ext_control, bytes: &[u8]) -> Result;
}

/// `V4L2_CTRL_ID2WHICH`: the class part of an id, or the special `which` values as they are.
fn id_to_which(id: u32) -> u32 {
    id & 0x0fff_0000
}

const CID_PRIVATE_BASE: u32 = 0x0800_0000;

impl Handler {
    /// A handler with `configs` and, as the core adds them, the class control of their class.
    pub fn new(configs: &[Config]) -> Result<Self> {
        let mut controls = Vec::new();
        let mut ids: Vec<Config> = configs.to_vec();
        ids.push(Config::std(V4L2_CID_CODEC_STATELESS_CLASS));
        ids.sort_by_key(|c| c.id);
        for config in ids {
            let def = definition(config.id).ok_or(Errno::EINVAL)?;
            let mut control = Control { def, config, value: Value::None };
            control.value = control.default_value();
            controls.push(control);
        }
        Ok(Handler { controls, changed: Vec::new() })
    }

    fn find(&self, id: u32) -> Option<&Control> {
        self.controls.iter().find(|c| c.def.id == id)
    }

    /// VIDIOC_QUERY_EXT_CTRL, including the NEXT_CTRL / NEXT_COMPOUND walk.
    pub fn query_ext_ctrl(&self, q: &mut v4l2_query_ext_ctrl) -> Result {
        let id = q.id & V4L2_CTRL_ID_MASK;
        let next = q.id & (V4L2_CTRL_FLAG_NEXT_CTRL | V4L2_CTRL_FLAG_NEXT_COMPOUND);
        let control = if next == 0 {
            self.find(id)
        } else {
            let compound_wanted = next & V4L2_CTRL_FLAG_NEXT_COMPOUND != 0;
            let simple_wanted = next & V4L2_CTRL_FLAG_NEXT_CTRL != 0;
            self.controls.iter().find(|c| {
                let compound = c.flags() & V4L2_CTRL_FLAG_HAS_PAYLOAD != 0;
                c.def.id > id && ((compound && compound_wanted) || (!compound && simple_wanted))
            })
        };
        control.ok_or(Errno::EINVAL)?.query(q);
        Ok(())
    }

    /// An empty control list only checks that the class exists (class_check).
    fn class_check(&self, which: u32) -> Result {
        if which == V4L2_CTRL_WHICH_CUR_VAL
            || which == V4L2_CTRL_WHICH_DEF_VAL
            || which == V4L2_CTRL_WHICH_REQUEST_VAL
        {
            return Ok(());
        }
        self.find(which | 1).map(|_| ()).ok_or(Errno::EINVAL)
    }

    /// prepare_ext_ctrls: look every id up and settle each payload size; `error_idx` names
    /// the entry at fault.
    fn prepare(
        &self,
        which: u32,
        error_idx: &mut u32,
        items: &mut [v4l2_ext_control],
        get: bool,
    ) -> Result<Vec<usize>> {
        let mut found = Vec::with_capacity(items.len());
        for (i, item) in items.iter_mut().enumerate() {
            // CAST: the count came in as a u32.
            *error_idx = i as u32;
            let id = item.id & V4L2_CTRL_ID_MASK;
            let special = [V4L2_CTRL_WHICH_CUR_VAL, V4L2_CTRL_WHICH_DEF_VAL, V4L2_CTRL_WHICH_REQUEST_VAL];
            if !special.contains(&which) && id_to_which(id) != which {
                return Err(Errno::EINVAL);
            }
            if id >= CID_PRIVATE_BASE {
                return Err(Errno::EINVAL);
            }
            let index = self.controls.iter().position(|c| c.def.id == id).ok_or(Errno::EINVAL)?;
            let control = &self.controls[index];
            let elem_size = control.elem_size();
            if let Some(max_elems) = control.config.dynamic_array {
                let current = match &control.value {
                    Value::Payload { elems, .. } => *elems,
                    _ => 1,
                };
                item.size = elem_size * (item.size / elem_size);
                if get {
                    let total = elem_size * current;
                    if item.size < total {
                        item.size = total;
                        return Err(Errno::ENOSPC);
                    }
                    item.size = total;
                } else {
                    if item.size > elem_size * max_elems {
                        item.size = elem_size * max_elems;
                        return Err(Errno::ENOSPC);
                    }
                    if item.size == 0 {
                        return Err(Errno::EFAULT);
                    }
                }
            } else if control.flags() & V4L2_CTRL_FLAG_HAS_PAYLOAD != 0 {
                if item.size < elem_size {
                    if get {
                        item.size = elem_size;
                        return Err(Errno::ENOSPC);
                    }
                    return Err(Errno::EFAULT);
                }
                item.size = elem_size;
            }
            found.push(index);
        }
        Ok(found)
    }

    /// VIDIOC_G_EXT_CTRLS for the current or default values.
    pub fn g_ext_ctrls(
        &self,
        which: u32,
        error_idx: &mut u32,
        items: &mut [v4l2_ext_control],
        io: &mut dyn PayloadIo,
        request: Option<&CtrlObject>,
    ) -> Result {
        let is_default = which == V4L2_CTRL_WHICH_DEF_VAL;
        // CAST: the count came in as a u32.
        let count = items.len() as u32;
        *error_idx = count;
        let which = id_to_which(which);
        if items.is_empty() {
            return self.class_check(which);
        }
        let prepared = self.prepare(which, error_idx, items, true);
        *error_idx = count;
        let found = prepared?;
        if found.iter().any(|&i| self.controls[i].flags() & V4L2_CTRL_FLAG_WRITE_ONLY != 0) {
            return Err(Errno::EACCES);
        }
        for (i, (item, &index)) in items.iter_mut().zip(&found).enumerate() {
            // CAST: as above.
            *error_idx = i as u32;
            let control = &self.controls[index];
            let value = match request.and_then(|r| r.values.get(index)).and_then(Option::as_ref) {
                _ if is_default => control.default_value(),
                Some(stored) => stored.clone(),
                None => control.value.clone(),
            };
            match value {
                // CAST: menu values are 32-bit; the core writes only `value` for them.
                Value::Int(v) => item.__bindgen_anon_1.value = v as i32,
                Value::Payload { bytes, .. } => io.write(item, &bytes)?,
                Value::None => return Err(Errno::EACCES),
            }
        }
        Ok(())
    }

    /// VIDIOC_S_EXT_CTRLS (`set`) and VIDIOC_TRY_EXT_CTRLS, as try_set_ext_ctrls_common:
    /// errors found before any value is examined report error_idx == count on S; a value
    /// that fails validation is named by its index, and those before it stay applied.
    pub fn try_set_ext_ctrls(
        &mut self,
        which: u32,
        error_idx: &mut u32,
        items: &mut [v4l2_ext_control],
        io: &mut dyn PayloadIo,
        set: bool,
        mut request: Option<&mut CtrlObject>,
    ) -> Result {
        // CAST: the count came in as a u32.
        let count = items.len() as u32;
        *error_idx = count;
        if which == V4L2_CTRL_WHICH_DEF_VAL {
            return Err(Errno::EINVAL);
        }
        let which = id_to_which(which);
        if items.is_empty() {
            return self.class_check(which);
        }
        let checked = self.prepare(which, error_idx, items, false).and_then(|found| {
            self.check_values(error_idx, items, &found)?;
            Ok(found)
        });
        let found = match checked {
            Ok(found) => found,
            Err(errno) => {
                if set {
                    *error_idx = count;
                }
                return Err(errno);
            }
        };
        for (i, (item, &index)) in items.iter_mut().zip(&found).enumerate() {
            // CAST: as above.
            *error_idx = i as u32;
            let control = &mut self.controls[index];
            let new = control.new_value(item, io)?;
            match &new {
                Value::Int(v) => {
                    // CAST: menu values are 32-bit.
                    item.__bindgen_anon_1.value = *v as i32;
                }
                Value::Payload { bytes, .. } => io.write(item, bytes)?,
                Value::None => {}
            }
            if set {
                match request.as_deref_mut().and_then(|r| r.values.get_mut(index)) {
                    Some(slot) => *slot = Some(new),
                    None if control.value != new => {
                        control.value = new;
                        let id = control.def.id;
                        self.changed.push(id);
                    }
                    None => {}
                }
            }
        }
        Ok(())
    }

    /// validate_ctrls: read-only controls and simple values, before anything is copied in.
    fn check_values(&self, error_idx: &mut u32, items: &[v4l2_ext_control], found: &[usize]) -> Result {
        for (i, (item, &index)) in items.iter().zip(found).enumerate() {
            // CAST: the count came in as a u32.
            *error_idx = i as u32;
            let control = &self.controls[index];
            if control.flags() & V4L2_CTRL_FLAG_READ_ONLY != 0 {
                return Err(Errno::EACCES);
            }
            if let Kind::Menu { max, .. } = control.def.kind {
                // SAFETY: `value` is the union member simple controls use.
                let value = i64::from(unsafe { item.__bindgen_anon_1.value });
                if !(0..=max).contains(&value) {
                    return Err(Errno::ERANGE);
                }
            }
        }
        Ok(())
    }
}

impl Control {
    /// user_to_new plus validation: the value this entry asks for, sanitised as the core does.
    fn new_value(&self, item: &v4l2_ext_control, io: &mut dyn PayloadIo) -> Result<Value> {
        match self.def.kind {
            Kind::Class => Ok(Value::None),
            // SAFETY: `value` is the union member simple controls use.
            Kind::Menu { .. } => Ok(Value::Int(i64::from(unsafe { item.__bindgen_anon_1.value }))),
            Kind::Compound { ctrl_type, size, .. } => {
                let mut bytes = vec![0; item.size as usize];
                io.read(item, &mut bytes)?;
                for element in bytes.chunks_mut(size) {
                    validate::compound(ctrl_type, element)?;
                }
                // CAST: sizes are checked against dims, far below 4 GiB.
                let elems = (bytes.len() / size) as u32;
                Ok(Value::Payload { bytes, elems })
            }
            Kind::U32 { .. } => {
                // The full u32 range with step 1 leaves nothing to clamp (type_op_validate).
                let mut bytes = vec![0; item.size as usize];
                io.read(item, &mut bytes)?;
                // CAST: as above.
                let elems = (bytes.len() / 4) as u32;
                Ok(Value::Payload { bytes, elems })
            }
        }
    }
}

impl Handler {
    /// VIDIOC_QUERYCTRL: QUERY_EXT_CTRL narrowed to the old struct; only simple types keep limits.
    pub fn queryctrl(&self, qc: &mut v4l2_queryctrl) -> Result {
        let mut q = v4l2_query_ext_ctrl { id: qc.id, ..Default::default() };
        self.query_ext_ctrl(&mut q)?;
        *qc = v4l2_queryctrl { id: q.id, type_: q.type_, flags: q.flags, ..Default::default() };
        let name = q.name;
        for (dst, src) in qc.name.iter_mut().zip(name.iter().take(31)) {
            // CAST: C chars of the same name, NUL-padded in both structs.
            *dst = *src as u8;
        }
        if q.type_ == V4L2_CTRL_TYPE_MENU {
            // CAST: menu limits are small.
            (qc.minimum, qc.maximum, qc.step, qc.default_value) =
                (q.minimum as i32, q.maximum as i32, q.step as i32, q.default_value as i32);
        }
        Ok(())
    }

    /// VIDIOC_QUERYMENU: the name of one item of a menu control.
    pub fn querymenu(&self, qm: &mut v4l2_querymenu) -> Result {
        let control = self.find(qm.id & V4L2_CTRL_ID_MASK).ok_or(Errno::EINVAL)?;
        qm.reserved = 0;
        let Kind::Menu { max, items, .. } = control.def.kind else {
            return Err(Errno::EINVAL);
        };
        let name =
            items.get(qm.index as usize).filter(|_| i64::from(qm.index) <= max).ok_or(Errno::EINVAL)?;
        // SAFETY: `name` is the union member of a MENU control's items.
        let dest = unsafe { &mut qm.__bindgen_anon_1.name };
        dest.fill(0);
        for (dst, src) in dest.iter_mut().zip(name.bytes().take(31)) {
            *dst = src;
        }
        Ok(())
    }

    /// VIDIOC_G_CTRL: simple (menu) controls only.
    pub fn g_ctrl(&self, control: &mut v4l2_control) -> Result {
        let found = self.find(control.id & V4L2_CTRL_ID_MASK).ok_or(Errno::EINVAL)?;
        match found.value {
            // CAST: menu values are 32-bit.
            Value::Int(v) => control.value = v as i32,
            _ => return Err(Errno::EINVAL),
        }
        Ok(())
    }

    /// VIDIOC_S_CTRL: a menu value, range-checked; returns the value as stored.
    pub fn s_ctrl(&mut self, control: &mut v4l2_control) -> Result {
        let id = control.id & V4L2_CTRL_ID_MASK;
        let found = self.controls.iter_mut().find(|c| c.def.id == id).ok_or(Errno::EINVAL)?;
        let Kind::Menu { max, .. } = found.def.kind else {
            return Err(Errno::EINVAL);
        };
        let value = i64::from(control.value);
        if !(0..=max).contains(&value) {
            return Err(Errno::ERANGE);
        }
        if found.value != Value::Int(value) {
            found.value = Value::Int(value);
            self.changed.push(id);
        }
        Ok(())
    }

    /// v4l2_ctrl_request_setup: the values a request set become the current ones.
    pub fn apply(&mut self, request: &CtrlObject) {
        for (control, value) in self.controls.iter_mut().zip(&request.values) {
            if let Some(value) = value {
                if control.value != *value {
                    self.changed.push(control.def.id);
                }
                control.value = value.clone();
            }
        }
    }

    /// The value of a simple control (menus), 0 for the others.
    pub fn int_value(&self, id: u32) -> i64 {
        match self.find(id).map(|c| &c.value) {
            Some(Value::Int(v)) => *v,
            _ => 0,
        }
    }

    /// The current value of the control in `slot`, for a request's completion snapshot.
    pub fn current(&self, slot: usize) -> Value {
        self.controls.get(slot).map(|c| c.value.clone()).unwrap_or(Value::None)
    }

    /// The current payload of control `id` (empty for a control without one).
    pub fn payload(&self, id: u32) -> &[u8] {
        match self.find(id).map(|c| &c.value) {
            Some(Value::Payload { bytes, .. }) => bytes,
            _ => &[],
        }
    }
}
