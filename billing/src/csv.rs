//! A small incremental CSV (RFC 4180) reader and the writer's quoting.
//!
//! Imports arrive as a stream of chunks; records can span chunks and quoted
//! fields can hold commas, quotes and line breaks. Records come out as they
//! complete, so a deck of a million rows never sits in memory whole.

/// Reads records from chunks of bytes.
#[derive(Default)]
pub struct CsvReader {
    pending: Vec<u8>,
    /// Line (1-based) where the next record starts.
    next_line: u64,
    started: bool,
}

/// One record and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: u64,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    pub line: u64,
    pub message: String,
}

impl CsvReader {
    pub fn new() -> CsvReader {
        CsvReader {
            pending: Vec::new(),
            next_line: 1,
            started: false,
        }
    }

    /// Adds a chunk and returns the records it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<Record>, CsvError> {
        self.pending.extend_from_slice(chunk);
        if !self.started && self.pending.len() >= 3 {
            if self.pending.starts_with(&[0xEF, 0xBB, 0xBF]) {
                self.pending.drain(..3);
            }
            self.started = true;
        }
        self.parse(false)
    }

    /// Ends the input: returns the last record if it had no line break.
    pub fn finish(&mut self) -> Result<Vec<Record>, CsvError> {
        if !self.started && self.pending.starts_with(&[0xEF, 0xBB, 0xBF]) {
            self.pending.drain(..3);
        }
        self.started = true;
        self.parse(true)
    }

    fn parse(&mut self, at_end: bool) -> Result<Vec<Record>, CsvError> {
        let mut records = Vec::new();
        let mut consumed = 0;
        loop {
            match parse_record(&self.pending[consumed..], at_end) {
                Parsed::Record {
                    fields,
                    used,
                    lines,
                } => {
                    let line = self.next_line;
                    self.next_line += lines;
                    consumed += used;
                    let fields = fields
                        .into_iter()
                        .map(|f| {
                            String::from_utf8(f).map_err(|_| CsvError {
                                line,
                                message: "is not valid UTF-8".into(),
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    // Blank lines carry nothing.
                    if !(fields.len() == 1 && fields[0].is_empty()) {
                        records.push(Record { line, fields });
                    }
                }
                Parsed::Incomplete => break,
                Parsed::Error(message) => {
                    return Err(CsvError {
                        line: self.next_line,
                        message,
                    })
                }
            }
        }
        self.pending.drain(..consumed);
        Ok(records)
    }
}

enum Parsed {
    Record {
        fields: Vec<Vec<u8>>,
        used: usize,
        lines: u64,
    },
    Incomplete,
    Error(String),
}

fn parse_record(input: &[u8], at_end: bool) -> Parsed {
    if input.is_empty() {
        return Parsed::Incomplete;
    }
    let mut fields = Vec::new();
    let mut field = Vec::new();
    let mut i = 0;
    let mut lines = 1;
    let mut quoted = false;
    let mut field_start = true;
    while i < input.len() {
        let b = input[i];
        if quoted {
            if b == b'"' {
                match input.get(i + 1) {
                    Some(b'"') => {
                        field.push(b'"');
                        i += 2;
                    }
                    Some(_) => {
                        quoted = false;
                        i += 1;
                    }
                    None if at_end => {
                        quoted = false;
                        i += 1;
                    }
                    None => return Parsed::Incomplete,
                }
            } else {
                if b == b'\n' {
                    lines += 1;
                }
                field.push(b);
                i += 1;
            }
            continue;
        }
        match b {
            b'"' if field_start => {
                quoted = true;
                field_start = false;
                i += 1;
            }
            b'"' => return Parsed::Error("has a quote inside an unquoted field".into()),
            b',' => {
                fields.push(std::mem::take(&mut field));
                field_start = true;
                i += 1;
            }
            b'\r' | b'\n' => {
                let mut used = i + 1;
                if b == b'\r' {
                    match input.get(i + 1) {
                        Some(b'\n') => used += 1,
                        Some(_) => {}
                        None if at_end => {}
                        None => return Parsed::Incomplete,
                    }
                }
                fields.push(field);
                return Parsed::Record {
                    fields,
                    used,
                    lines,
                };
            }
            _ => {
                if field_start {
                    field_start = false;
                }
                field.push(b);
                i += 1;
            }
        }
    }
    if !at_end {
        return Parsed::Incomplete;
    }
    if quoted {
        return Parsed::Error("ends inside a quoted field".into());
    }
    fields.push(field);
    Parsed::Record {
        fields,
        used: input.len(),
        lines,
    }
}

/// A field as CSV: quoted when it holds a comma, quote or line break.
pub fn field(value: &str) -> std::borrow::Cow<'_, str> {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\"")).into()
    } else {
        value.into()
    }
}

/// First characters that make a spreadsheet read a cell as a formula
/// (OWASP's list), and the escape itself, so that escaping stays reversible.
const FORMULA_STARTS: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\''];

/// A text cell as CSV that no spreadsheet runs as a formula: a value that
/// begins with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
/// `'` (as does one that begins with `'`, so [`untext`] gives back exactly
/// the value). Numbers the product writes are not text cells.
pub fn text(value: &str) -> std::borrow::Cow<'_, str> {
    if value.starts_with(FORMULA_STARTS) {
        field(&format!("'{value}")).into_owned().into()
    } else {
        field(value)
    }
}

/// A cell read back from a CSV file: [`text`]'s one leading `'` removed.
pub fn untext(mut value: String) -> String {
    if value.starts_with('\'') {
        value.remove(0);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(chunks: &[&[u8]]) -> Result<Vec<Record>, CsvError> {
        let mut r = CsvReader::new();
        let mut out = Vec::new();
        for c in chunks {
            out.extend(r.push(c)?);
        }
        out.extend(r.finish()?);
        Ok(out)
    }

    #[test]
    fn reads_quotes_commas_and_line_breaks_across_chunks() {
        let text = b"\xEF\xBB\xBFa,b,c\r\n1,\"x, \"\"y\"\"\nz\",3\n\n4,5,6";
        for split in 0..text.len() {
            let (a, b) = text.split_at(split);
            let records = read_all(&[a, b]).expect("valid csv");
            assert_eq!(records.len(), 3, "split at {split}");
            assert_eq!(records[0].fields, ["a", "b", "c"]);
            assert_eq!(records[1].fields, ["1", "x, \"y\"\nz", "3"]);
            assert_eq!(records[1].line, 2);
            assert_eq!(records[2].line, 5);
            assert_eq!(records[2].fields, ["4", "5", "6"]);
        }
    }

    #[test]
    fn reports_broken_quotes_with_their_line() {
        let err = read_all(&[b"a,b\n1,\"open\n"]).expect_err("unterminated");
        assert_eq!(err.line, 2);
        let err = read_all(&[b"a,b\n1,x\"y\n"]).expect_err("stray quote");
        assert_eq!(err.line, 2);
    }

    #[test]
    fn writes_fields_that_read_back_the_same() {
        for value in [
            "plain",
            "a,b",
            "say \"hi\"",
            "two\nlines",
            "=SUM(A1)",
            "+44",
            "-1.5",
        ] {
            let line = format!("{}\n", field(value));
            let records = read_all(&[line.as_bytes()]).expect("valid");
            assert_eq!(records[0].fields, [value]);
        }
        assert_eq!(field("+44"), "+44");
    }

    #[test]
    fn text_cells_never_start_a_formula_and_read_back_the_same() {
        assert_eq!(
            text("=HYPERLINK(\"http://evil\",\"x\")"),
            "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\""
        );
        assert_eq!(text("+4420"), "'+4420");
        assert_eq!(text("-2+3"), "'-2+3");
        assert_eq!(text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text("\tcmd"), "'\tcmd");
        assert_eq!(text("\rcmd"), "\"'\rcmd\"");
        assert_eq!(text("United Kingdom"), "United Kingdom");
        assert_eq!(text("44"), "44");
        assert_eq!(text(""), "");
        for value in [
            "=1+1", "+4420", "-1", "@x", "\tx", "\rx", "'quoted", "''", "plain", "a, b",
        ] {
            let line = format!("{}\n", text(value));
            let records = read_all(&[line.as_bytes()]).expect("valid");
            let cell = records[0].fields[0].clone();
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?}"
            );
            assert_eq!(untext(cell), value);
        }
    }
}
