//! CSV as RFC 4180 writes it, with cells a spreadsheet would read as a
//! formula defused (CWE-1236): the audit export, the credit history and the
//! usage reports all write through here.

/// Appends one cell: quoted when needed, and defused when a spreadsheet
/// would read it as a formula.
pub fn push_cell(out: &mut String, value: &str) {
    let formula = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if !formula && !value.contains([',', '"', '\r', '\n']) {
        out.push_str(value);
        return;
    }
    out.push('"');
    if formula {
        out.push('\'');
    }
    for piece in value.split_inclusive('"') {
        out.push_str(piece);
        if piece.ends_with('"') {
            out.push('"');
        }
    }
    out.push('"');
}

/// Appends one line of text cells, each through [`push_cell`], ended by CRLF.
pub fn push_row<S: AsRef<str>>(out: &mut String, cells: &[S]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_cell(out, cell.as_ref());
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::{push_cell, push_row};

    fn cell(value: &str) -> String {
        let mut out = String::new();
        push_cell(&mut out, value);
        out
    }

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        for risky in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(cell(risky).starts_with("\"'"), "{risky:?}");
        }
        assert_eq!(cell("line\nbreak"), "\"line\nbreak\"");
    }

    #[test]
    fn a_row_is_comma_separated_and_ends_in_crlf() {
        let mut out = String::new();
        push_row(&mut out, &["a", "b,c", "=1"]);
        assert_eq!(out, "a,\"b,c\",\"'=1\"\r\n");
    }
}
