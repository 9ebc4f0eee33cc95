//! Render frames with the TPG, for comparing with c-visl frames and for timing.
//!
//! `render case N OUT.bin`  renders reference case N (0-based line of tests/data/reference.tsv)
//! `render time [W H]`      times Tpg::new and Tpg::fill at W×H (default 1920×1080), both layouts

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;
use tpg::{Colorimetry, Layout, Tpg};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("case") => {
            let n: usize = args[1].parse().expect("case index");
            let case = &common::reference_cases()[n];
            std::fs::write(&args[2], case.render()).expect("write frame");
            println!("{}", case.name());
        }
        Some("time") => {
            let w: u32 = args.get(1).map_or(1920, |a| a.parse().expect("width"));
            let h: u32 = args.get(2).map_or(1080, |a| a.parse().expect("height"));
            for layout in [Layout::Nv12, Layout::Yu12] {
                let c = Colorimetry { colorspace: 3, ..Default::default() };
                let t = Instant::now();
                let tpg = Tpg::new(w, h, layout, c);
                let new = t.elapsed();
                let mut frame = vec![0u8; tpg.extent()];
                let reps = 200;
                let t = Instant::now();
                for _ in 0..reps {
                    tpg.fill(&mut frame);
                }
                let fill = t.elapsed() / reps;
                let mut copy = vec![0u8; frame.len()];
                let t = Instant::now();
                for _ in 0..reps {
                    copy.copy_from_slice(&frame);
                    std::hint::black_box(&mut copy);
                }
                let memcpy = t.elapsed() / reps;
                println!("{w}x{h} {layout:?}: new {new:?}, fill {fill:?}, memcpy of the frame {memcpy:?}");
            }
        }
        _ => eprintln!("usage: render case N OUT.bin | render time [W H]"),
    }
}
