//! Reading generated secret values out of `abra app secret generate` output, so they can be registered
//! with the redactor before the output goes anywhere. It never stores or prints a value.

/// Values found in the output: with `--machine`, every string field other than `name` of each object
/// of abra's JSON array (`[{"name": "db_password", "value": "…"}]`; any other field is taken too, so a
/// renamed field is masked rather than missed); otherwise the second cell of every two-column table row
/// (`│ name │ value │` or `| name | value |`) except the header.
pub fn generated_values(output: &str) -> Vec<String> {
    let mut values = Vec::new();
    if let Ok(serde_json::Value::Array(items)) =
        serde_json::from_str::<serde_json::Value>(output.trim())
    {
        for item in items {
            let Some(fields) = item.as_object() else {
                continue;
            };
            for (k, v) in fields {
                match v.as_str() {
                    Some(v) if !k.eq_ignore_ascii_case("name") && !v.is_empty() => {
                        values.push(v.to_string())
                    }
                    _ => {}
                }
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
    fn machine_json_with_other_field_names_is_still_masked() {
        let out = r#"[{"NAME":"db","SECRET":"p4ss-w0rd"},{"name":"x","generated":"q","n":3}]"#;
        assert_eq!(generated_values(out), ["p4ss-w0rd", "q"]);
    }

    #[test]
    fn ordinary_lines_are_not_taken_for_secrets() {
        assert!(generated_values("INFO generated 2 secrets\n").is_empty());
    }
}
