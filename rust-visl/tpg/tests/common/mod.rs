//! Shared by the tests and the example: MD5 (RFC 1321) and the reference-case format of
//! tests/data/reference.tsv (written by gen/record_reference.py).
#![allow(dead_code)]

use tpg::{Colorimetry, Layout, Tpg};

/// MD5 of `data` as 32 lowercase hex digits.
pub fn md5_hex(data: &[u8]) -> String {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15,
        21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    // K[i] = floor(2^32 * |sin(i + 1)|)
    let k: Vec<u32> = (0..64).map(|i| ((i as f64 + 1.0).sin().abs() * 4294967296.0) as u32).collect();
    let mut st: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_le_bytes());
    for chunk in msg.chunks_exact(64) {
        let m: Vec<u32> =
            chunk.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let [mut a, mut b, mut c, mut d] = st;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(S[i]));
        }
        for (s, v) in st.iter_mut().zip([a, b, c, d]) {
            *s = s.wrapping_add(v);
        }
    }
    st.iter().flat_map(|v| v.to_le_bytes()).map(|b| format!("{b:02x}")).collect()
}

/// One recorded c-visl frame.
pub struct Case {
    pub width: u32,
    pub height: u32,
    pub fourcc: String,
    pub colorimetry: Colorimetry,
    pub md5: String,
    /// Text line i is drawn at y = 16 * (i + 1); empty lines are not drawn.
    pub lines: Vec<String>,
}

impl Case {
    pub fn parse(row: &str) -> Case {
        let f: Vec<&str> = row.split('\t').collect();
        assert_eq!(f.len(), 9, "bad reference row: {row}");
        let n = |i: usize| f[i].parse::<u32>().unwrap_or_else(|e| panic!("{row}: field {i}: {e}"));
        Case {
            width: n(0),
            height: n(1),
            fourcc: f[2].to_string(),
            colorimetry: Colorimetry {
                colorspace: n(3),
                xfer_func: n(4),
                ycbcr_enc: n(5),
                quantization: n(6),
            },
            md5: f[7].to_string(),
            lines: f[8].split('|').map(str::to_string).collect(),
        }
    }

    pub fn name(&self) -> String {
        let c = self.colorimetry;
        format!(
            "{}x{} {} colorspace {} xfer_func {} ycbcr_enc {} quantization {}",
            self.width, self.height, self.fourcc, c.colorspace, c.xfer_func, c.ycbcr_enc, c.quantization
        )
    }

    pub fn layout(&self) -> Layout {
        match self.fourcc.as_str() {
            "NV12" => Layout::Nv12,
            "YU12" => Layout::Yu12,
            other => panic!("unknown fourcc {other}"),
        }
    }

    /// visl's CAPTURE sizeimage: w·h + 2·⌈w/2⌉·⌈h/2⌉.
    pub fn sizeimage(&self) -> usize {
        let (w, h) = (self.width as usize, self.height as usize);
        w * h + 2 * w.div_ceil(2) * h.div_ceil(2)
    }

    /// The frame visl renders for this case into a zeroed (fresh vmalloc) buffer.
    pub fn render(&self) -> Vec<u8> {
        let tpg = Tpg::new(self.width, self.height, self.layout(), self.colorimetry);
        let mut frame = vec![0u8; self.sizeimage()];
        tpg.fill(&mut frame);
        for (i, line) in self.lines.iter().enumerate() {
            if !line.is_empty() {
                tpg.text(&mut frame, 16 * (i as u32 + 1), 16, line.as_bytes());
            }
        }
        frame
    }
}

pub fn reference_cases() -> Vec<Case> {
    include_str!("../data/reference.tsv").lines().filter(|l| !l.is_empty()).map(Case::parse).collect()
}
