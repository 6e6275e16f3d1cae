//! The text of a spec file or `recipe.yaml` before it is YAML: UTF-8, without a byte order mark, and
//! without NUL or other control characters (YAML allows only tab, newline and carriage return). Each
//! problem is positioned at its line and column with what to do, instead of surfacing later as a
//! confusing key or syntax error. It only inspects text.

use std::path::Path;

use super::error::{SpecError, SpecErrorKind};

/// 1-based line and column (in characters) of byte `offset` of `text`.
fn position(text: &[u8], offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line, column)
}

fn error(file: &Path, text: &[u8], offset: usize, message: String) -> SpecError {
    let (line, column) = position(text, offset);
    SpecError {
        file: file.to_path_buf(),
        line,
        column,
        key: None,
        kind: Box::new(SpecErrorKind::Text { message }),
    }
}

/// Decodes a file's bytes as the text of a spec (see [`check_text`]).
pub fn decode(file: &Path, bytes: &[u8]) -> Result<String, SpecError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => match check_text(file, text) {
            Some(e) => Err(e),
            None => Ok(text.to_string()),
        },
        Err(e) => {
            let at = e.valid_up_to();
            Err(error(
                file,
                bytes,
                at,
                format!(
                    "byte 0x{:02x} is not UTF-8 text (hint: save the file as UTF-8)",
                    bytes[at]
                ),
            ))
        }
    }
}

/// The first problem of a text that must be a spec: a byte order mark, a NUL or a control character.
pub fn check_text(file: &Path, text: &str) -> Option<SpecError> {
    if text.starts_with('\u{feff}') {
        return Some(error(
            file,
            text.as_bytes(),
            0,
            "the file starts with a byte order mark (U+FEFF) (hint: save it as UTF-8 without BOM)"
                .into(),
        ));
    }
    let (at, c) = text
        .char_indices()
        .find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))?;
    let what = if c == '\0' {
        "a NUL byte".to_string()
    } else {
        format!("the control character U+{:04X}", c as u32)
    };
    Some(error(
        file,
        text.as_bytes(),
        at,
        format!("{what} in the text (hint: a spec file is plain text; remove it)"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(bytes: &[u8]) -> (usize, usize, String) {
        let e = decode(Path::new("f.yaml"), bytes).unwrap_err();
        (e.line, e.column, e.to_string())
    }

    #[test]
    fn a_bom_a_nul_and_a_stray_byte_are_positioned() {
        let (l, c, m) = at(b"\xef\xbb\xbftier: install\n");
        assert_eq!((l, c), (1, 1));
        assert!(
            m.starts_with("f.yaml:1:1: the file starts with a byte order mark"),
            "{m}"
        );
        let (l, c, m) = at(b"tier: install\ntests:\n  - name: a\x00b\n");
        assert_eq!((l, c), (3, 12));
        assert!(m.contains("a NUL byte"), "{m}");
        let mut bytes = "tier: ünstall\n  x: \u{ff}".as_bytes().to_vec();
        bytes.push(0xff);
        let (l, c, m) = at(&bytes);
        assert_eq!((l, c), (2, 7));
        assert!(m.contains("byte 0xff is not UTF-8"), "{m}");
        let (_, _, m) = at(b"a: \x1b[31m\n");
        assert!(m.contains("U+001B"), "{m}");
    }

    #[test]
    fn tabs_newlines_and_crlf_are_text() {
        assert!(decode(Path::new("f"), b"a: 1\r\nb:\t2\n").is_ok());
    }
}
