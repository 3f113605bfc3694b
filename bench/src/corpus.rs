//! Deterministic corpora for the compression benchmark: English-like prose and JSON records.
//!
//! Random bytes do not compress and a repeated string compresses absurdly well; neither says
//! what a WebSocket application sees. These generators make messages with the statistics of
//! real traffic: prose drawn from a vocabulary of common English words with a Zipf-like
//! frequency (a few words very common, most rare), and arrays of JSON records of the shape an
//! API sends (ids, names, e-mail addresses, timestamps, numbers, booleans, short text). The
//! generator is seeded, so every run (and the Node side, which reads the files written by
//! [`write_json`]) compresses the very same bytes.

/// The corpora, by name.
pub const CORPORA: &[&str] = &["text", "json"];

/// xorshift64*: small, fast, and the same sequence on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// An index in `0..n` with probability roughly proportional to 1 / (index + 1).
    fn zipf(&mut self, n: usize) -> usize {
        // Inverse of the continuous 1/x distribution over [1, n + 1): exp(u * ln(n + 1)) - 1.
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        let x = ((n as f64 + 1.0).ln() * u).exp() - 1.0;
        (x as usize).min(n - 1)
    }
}

/// Common English words, most frequent first (the order sets their Zipf weight).
const WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "a",
    "in",
    "is",
    "that",
    "it",
    "was",
    "for",
    "on",
    "are",
    "as",
    "with",
    "his",
    "they",
    "at",
    "be",
    "this",
    "from",
    "have",
    "or",
    "by",
    "one",
    "had",
    "not",
    "but",
    "what",
    "all",
    "were",
    "when",
    "we",
    "there",
    "can",
    "an",
    "your",
    "which",
    "their",
    "said",
    "if",
    "do",
    "will",
    "each",
    "about",
    "how",
    "up",
    "out",
    "them",
    "then",
    "she",
    "many",
    "some",
    "so",
    "these",
    "would",
    "other",
    "into",
    "has",
    "more",
    "her",
    "two",
    "like",
    "him",
    "see",
    "time",
    "could",
    "no",
    "make",
    "than",
    "first",
    "been",
    "its",
    "who",
    "now",
    "people",
    "my",
    "made",
    "over",
    "did",
    "down",
    "only",
    "way",
    "find",
    "use",
    "may",
    "water",
    "long",
    "little",
    "very",
    "after",
    "words",
    "called",
    "just",
    "where",
    "most",
    "know",
    "get",
    "through",
    "back",
    "much",
    "before",
    "go",
    "good",
    "new",
    "write",
    "our",
    "used",
    "me",
    "man",
    "too",
    "any",
    "day",
    "same",
    "right",
    "look",
    "think",
    "also",
    "around",
    "another",
    "came",
    "come",
    "work",
    "three",
    "word",
    "must",
    "because",
    "does",
    "part",
    "even",
    "place",
    "well",
    "such",
    "here",
    "take",
    "why",
    "things",
    "help",
    "put",
    "years",
    "different",
    "away",
    "again",
    "off",
    "went",
    "old",
    "number",
    "great",
    "tell",
    "men",
    "say",
    "small",
    "every",
    "found",
    "still",
    "between",
    "name",
    "should",
    "home",
    "big",
    "give",
    "air",
    "line",
    "set",
    "own",
    "under",
    "read",
    "last",
    "never",
    "us",
    "left",
    "end",
    "along",
    "while",
    "might",
    "next",
    "sound",
    "below",
    "saw",
    "something",
    "thought",
    "both",
    "few",
    "those",
    "always",
    "show",
    "large",
    "often",
    "together",
    "asked",
    "house",
    "world",
    "going",
    "want",
    "school",
    "important",
    "until",
    "form",
    "food",
    "keep",
    "children",
    "feet",
    "land",
    "side",
    "without",
    "boy",
    "once",
    "animals",
    "life",
    "enough",
    "took",
    "sometimes",
    "four",
    "head",
    "above",
    "kind",
    "began",
    "almost",
    "live",
    "page",
    "got",
    "earth",
    "need",
    "far",
    "hand",
    "high",
    "year",
    "mother",
    "light",
    "parts",
    "country",
    "father",
    "let",
    "night",
    "following",
    "picture",
    "being",
    "study",
    "second",
    "eyes",
    "soon",
    "times",
    "story",
    "boys",
    "since",
    "white",
    "days",
    "ever",
    "paper",
    "hard",
    "near",
    "sentence",
    "better",
    "best",
    "across",
    "during",
    "today",
    "others",
    "however",
    "sure",
    "means",
    "knew",
    "try",
    "told",
    "young",
    "miles",
    "sun",
    "ways",
    "thing",
    "whole",
    "hear",
    "example",
    "heard",
    "several",
    "change",
    "answer",
    "room",
    "sea",
    "against",
    "top",
    "turned",
    "learn",
    "point",
    "city",
    "play",
    "toward",
    "five",
    "using",
    "himself",
    "usually",
    "money",
    "seen",
    "car",
    "morning",
    "river",
    "mountain",
    "weather",
    "question",
    "government",
    "history",
    "connection",
    "message",
    "protocol",
];

const FIRST: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yasmin", "zoe",
    "oscar", "liam", "mia",
];
const TAGS: &[&str] = &[
    "admin", "beta", "billing", "eu", "us", "apac", "mobile", "web", "trial", "premium", "support",
    "internal", "partner", "legacy",
];
const STATUS: &[&str] = &["active", "pending", "suspended", "deleted"];

/// One sentence of prose, appended to `out`.
fn sentence(r: &mut Rng, out: &mut String) {
    let n = 6 + r.below(15);
    for i in 0..n {
        let w = WORDS[r.zipf(WORDS.len())];
        if i == 0 {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                out.extend(f.to_uppercase());
                out.push_str(c.as_str());
            }
        } else {
            out.push(' ');
            out.push_str(w);
        }
        if i + 1 < n && r.below(12) == 0 {
            out.push(',');
        }
    }
    out.push_str(if r.below(10) == 0 { "? " } else { ". " });
}

/// Prose of exactly `size` bytes (ASCII, so any cut is a character boundary): sentences in
/// paragraphs, the last one cut.
fn prose(r: &mut Rng, size: usize) -> String {
    let mut s = String::with_capacity(size + 256);
    while s.len() < size {
        for _ in 0..3 + r.below(5) {
            sentence(r, &mut s);
        }
        s.pop();
        s.push('\n');
    }
    s.truncate(size);
    s
}

/// One JSON record, appended to `out`.
fn record(r: &mut Rng, id: u64, out: &mut String) {
    use std::fmt::Write as _;
    let first = FIRST[r.below(FIRST.len())];
    let last = FIRST[r.below(FIRST.len())];
    let mut text = String::new();
    sentence(r, &mut text);
    let ntags = r.below(4);
    let tags: Vec<String> = (0..ntags)
        .map(|_| format!("\"{}\"", TAGS[r.below(TAGS.len())]))
        .collect();
    let _ = write!(
        out,
        "{{\"id\":{id},\"user\":\"{first}.{last}{n}\",\"email\":\"{first}.{last}{n}@example.com\",\
         \"status\":\"{st}\",\"verified\":{v},\"score\":{s}.{c:02},\"visits\":{vis},\
         \"tags\":[{tags}],\"created\":\"2026-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}Z\",\
         \"bio\":\"{bio}\"}}",
        n = r.below(1000),
        st = STATUS[r.zipf(STATUS.len())],
        v = r.below(2) == 0,
        s = r.below(100),
        c = r.below(100),
        vis = r.below(100_000),
        tags = tags.join(","),
        mo = 1 + r.below(12),
        d = 1 + r.below(28),
        h = r.below(24),
        mi = r.below(60),
        se = r.below(60),
        bio = text.trim_end(),
    );
}

/// A JSON document of at most `size` bytes: `{"page":N,"items":[record,...]}` with as many
/// records as fit (at least one), as an API page would be.
fn json_doc(r: &mut Rng, page: u64, size: usize, next_id: &mut u64) -> String {
    let mut s = format!("{{\"page\":{page},\"items\":[");
    let mut rec = String::new();
    let mut first = true;
    loop {
        rec.clear();
        record(r, *next_id, &mut rec);
        // Keep room for the separator and the closing `]}`.
        if !first && s.len() + rec.len() + 3 > size {
            break;
        }
        if !first {
            s.push(',');
        }
        s.push_str(&rec);
        *next_id += 1;
        first = false;
    }
    s.push_str("]}");
    s
}

/// `count` messages of corpus `corpus` (one of [`CORPORA`]) of about `size` bytes each: prose
/// of exactly `size` bytes, or JSON documents of at most `size` bytes (whole records only).
/// Different messages have different content, as on a real connection.
pub fn messages(corpus: &str, size: usize, count: usize) -> Vec<String> {
    let seed = corpus
        .bytes()
        .fold(size as u64, |h, b| h.rotate_left(8) ^ u64::from(b));
    let mut r = Rng(0x9e37_79b9_7f4a_7c15 ^ seed);
    let mut next_id = 1_000_000;
    (0..count)
        .map(|i| match corpus {
            "text" => prose(&mut r, size),
            "json" => json_doc(&mut r, i as u64, size, &mut next_id),
            other => panic!("unknown corpus {other}"),
        })
        .collect()
}

/// The messages as a JSON array of strings (what `js/bench/deflate.js` reads).
pub fn write_json(path: &std::path::Path, msgs: &[String]) -> std::io::Result<()> {
    let mut s = String::from("[");
    for (i, m) in msgs.iter().enumerate() {
        if i > 0 {
            s.push_str(",\n");
        }
        s.push_str(&crate::json_str(m));
    }
    s.push_str("]\n");
    std::fs::write(path, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_has_the_exact_size_and_varies() {
        let m = messages("text", 1024, 3);
        assert!(m.iter().all(|m| m.len() == 1024));
        assert_ne!(m[0], m[1]);
        assert_eq!(m, messages("text", 1024, 3), "deterministic");
    }

    #[test]
    fn json_documents_fit_and_are_whole() {
        for size in [1024, 65536] {
            for m in messages("json", size, 4) {
                assert!(m.len() <= size, "{} > {size}", m.len());
                assert!(m.len() > size / 2, "{} too short for {size}", m.len());
                assert!(m.starts_with("{\"page\":") && m.ends_with("}]}"));
                // Balanced braces and brackets outside strings: a whole document.
                let (mut depth, mut in_str) = (0i32, false);
                for c in m.chars() {
                    match c {
                        '"' => in_str = !in_str,
                        '{' | '[' if !in_str => depth += 1,
                        '}' | ']' if !in_str => depth -= 1,
                        _ => {}
                    }
                    assert!(depth >= 0);
                }
                assert_eq!(depth, 0);
            }
        }
    }
}
