//! Reading generated secret values out of `abra app secret generate` output, so they can be registered
//! with the redactor before the output goes anywhere. It never stores or prints a value.

/// Values found in the output: the second cell of every two-column table row (`│ name │ value │` or
/// `| name | value |`) except the header, and `value` fields of `--machine` JSON output.
pub fn generated_values(output: &str) -> Vec<String> {
    let mut values = Vec::new();
    if let Ok(serde_json::Value::Array(items)) =
        serde_json::from_str::<serde_json::Value>(output.trim())
    {
        for item in items {
            if let Some(v) = item.get("value").and_then(|v| v.as_str()) {
                values.push(v.to_string());
            }
        }
        return values;
    }
    for line in output.lines() {
        let cells: Vec<&str> = line
            .split(['│', '|', '┃'])
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        if cells.len() != 2 {
            continue;
        }
        if cells[0].eq_ignore_ascii_case("name") && cells[1].eq_ignore_ascii_case("value") {
            continue;
        }
        if cells[1].chars().all(|c| "─━-=+┼╋".contains(c)) {
            continue;
        }
        values.push(cells[1].to_string());
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_give_their_values_and_the_header_is_skipped() {
        let out = "┌─────┬──────┐\n│ NAME │ VALUE │\n├─────┼──────┤\n│ api_key │ s3cr3t-value-1 │\n│ db │ other-value-22 │\n└─────┴──────┘\n";
        assert_eq!(generated_values(out), ["s3cr3t-value-1", "other-value-22"]);
    }

    #[test]
    fn ascii_tables_and_machine_json_work_too() {
        assert_eq!(generated_values("| a | vvvvvv |\n"), ["vvvvvv"]);
        assert_eq!(
            generated_values(r#"[{"name":"a","value":"xyzxyz"}]"#),
            ["xyzxyz"]
        );
    }

    #[test]
    fn ordinary_lines_are_not_taken_for_secrets() {
        assert!(generated_values("INFO generated 2 secrets\n").is_empty());
    }
}
