//! The trace text rust-visl renders, compared byte for byte with what upstream visl printed
//! on a real kernel for the same stored control values (data/trace-reference.json; see
//! data/README.md for its provenance and record_trace_reference.py for how it was made).

use std::collections::BTreeMap;

use visl::trace::{job_events, CtrlSource};

/// A JSON value: just enough of JSON for the reference file (no floats, no escapes beyond
/// the ones Python's json.dumps writes for ASCII text).
#[derive(Debug)]
enum Json {
    /// `true`, `false` or `null`: the reference file has none the test reads.
    Literal,
    Num(i64),
    Str(String),
    List(Vec<Json>),
    Obj(BTreeMap<String, Json>),
}

impl Json {
    fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(map) => map.get(key).unwrap_or_else(|| panic!("no key {key:?}")),
            other => panic!("{other:?} is not an object (looking for {key:?})"),
        }
    }

    fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            other => panic!("{other:?} is not a string"),
        }
    }

    fn num(&self) -> i64 {
        match self {
            Json::Num(n) => *n,
            other => panic!("{other:?} is not a number"),
        }
    }

    fn list(&self) -> &[Json] {
        match self {
            Json::List(items) => items,
            other => panic!("{other:?} is not a list"),
        }
    }

    fn obj(&self) -> &BTreeMap<String, Json> {
        match self {
            Json::Obj(map) => map,
            other => panic!("{other:?} is not an object"),
        }
    }
}

struct Parser<'a> {
    text: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.at < self.text.len() && self.text[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) {
        self.skip_ws();
        assert_eq!(self.text[self.at], byte, "JSON: expected {:?} at {}", byte as char, self.at);
        self.at += 1;
    }

    fn peek(&mut self) -> u8 {
        self.skip_ws();
        self.text[self.at]
    }

    fn value(&mut self) -> Json {
        match self.peek() {
            b'{' => {
                self.eat(b'{');
                let mut map = BTreeMap::new();
                if self.peek() == b'}' {
                    self.eat(b'}');
                    return Json::Obj(map);
                }
                loop {
                    let key = self.string();
                    self.eat(b':');
                    map.insert(key, self.value());
                    if self.peek() == b',' {
                        self.eat(b',');
                    } else {
                        self.eat(b'}');
                        return Json::Obj(map);
                    }
                }
            }
            b'[' => {
                self.eat(b'[');
                let mut items = Vec::new();
                if self.peek() == b']' {
                    self.eat(b']');
                    return Json::List(items);
                }
                loop {
                    items.push(self.value());
                    if self.peek() == b',' {
                        self.eat(b',');
                    } else {
                        self.eat(b']');
                        return Json::List(items);
                    }
                }
            }
            b'"' => Json::Str(self.string()),
            b't' => self.word("true"),
            b'f' => self.word("false"),
            b'n' => self.word("null"),
            _ => {
                let start = self.at;
                while self.at < self.text.len()
                    && (self.text[self.at] == b'-' || self.text[self.at].is_ascii_digit())
                {
                    self.at += 1;
                }
                let digits = std::str::from_utf8(&self.text[start..self.at]).expect("ASCII digits");
                Json::Num(digits.parse().unwrap_or_else(|_| panic!("JSON: bad number at {start}")))
            }
        }
    }

    fn word(&mut self, word: &str) -> Json {
        assert!(self.text[self.at..].starts_with(word.as_bytes()), "JSON: bad literal at {}", self.at);
        self.at += word.len();
        Json::Literal
    }

    fn string(&mut self) -> String {
        self.eat(b'"');
        let mut out = String::new();
        loop {
            let c = self.text[self.at];
            self.at += 1;
            match c {
                b'"' => return out,
                b'\\' => {
                    let e = self.text[self.at];
                    self.at += 1;
                    match e {
                        b'n' => out.push('\n'),
                        b't' => out.push('\t'),
                        b'r' => out.push('\r'),
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'u' => {
                            let hex = std::str::from_utf8(&self.text[self.at..self.at + 4]).expect("ASCII");
                            let code = u32::from_str_radix(hex, 16).expect("\\u escape");
                            out.push(char::from_u32(code).expect("no surrogates in ASCII text"));
                            self.at += 4;
                        }
                        other => panic!("JSON: unknown escape \\{}", other as char),
                    }
                }
                _ => out.push(c as char),
            }
        }
    }
}

fn parse(text: &str) -> Json {
    Parser { text: text.as_bytes(), at: 0 }.value()
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex payload")).collect()
}

struct Stored(BTreeMap<u32, Vec<u8>>);

impl CtrlSource for Stored {
    fn payload(&self, id: u32) -> &[u8] {
        self.0.get(&id).map(Vec::as_slice).unwrap_or_else(|| panic!("control {id:#x} was not recorded"))
    }
}

/// The first line where two texts part, for a readable failure.
fn first_difference(want: &str, got: &str) -> String {
    for (n, (w, g)) in want.split('\n').zip(got.split('\n')).enumerate() {
        if w != g {
            return format!("line {n}: kernel {w:?}, rust {g:?}");
        }
    }
    format!("line counts differ: kernel {}, rust {}", want.split('\n').count(), got.split('\n').count())
}

#[test]
fn trace_text_matches_the_kernel() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/trace-reference.json");
    let data = parse(&std::fs::read_to_string(path).expect("reading trace-reference.json"));
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in data.get("cases").list() {
        let label = format!("{} {}", case.get("codec").str(), case.get("variant").str());
        let stored = Stored(
            case.get("controls")
                .obj()
                .values()
                .map(|c| (c.get("id").num() as u32, unhex(c.get("payload").str())))
                .collect(),
        );
        let fourcc = case.get("fourcc").num() as u32;
        let want = case.get("events").list();
        let got = job_events(fourcc, &stored);
        if want.len() != got.len() {
            failures.push(format!("{label}: kernel printed {} events, rust {}", want.len(), got.len()));
            continue;
        }
        for (i, (w, g)) in want.iter().zip(&got).enumerate() {
            let (name, payload) = (w.get("name").str(), w.get("payload").str());
            if name != g.name {
                failures.push(format!("{label} event {i}: kernel {name}, rust {}", g.name));
            } else if payload != g.payload {
                failures
                    .push(format!("{label} event {i} ({name}): {}", first_difference(payload, &g.payload)));
            }
            checked += 1;
        }
    }
    assert!(checked > 0, "no reference events");
    assert!(failures.is_empty(), "{} of {checked} events differ:\n{}", failures.len(), failures.join("\n"));
}
