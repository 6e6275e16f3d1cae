//! A tier's trials as libtest shows tests (`running 3 tests`, `test id ... ok`, the failures, `test
//! result: …`), in its pretty, terse (`-q`) or JSON format, with or without colour — so CI logs and
//! tools that read cargo's output read cc-ci's the same way. Rendered from `TrialsStarted`,
//! `TrialStarted`, `TrialFinished` and `TrialsFinished` events.

use std::io::{self, Write};

use super::event::{TrialFinish, TrialsFinish, TrialsStart};
use super::model::Outcome;

/// libtest's output formats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TrialFormat {
    #[default]
    Pretty,
    /// One character per test (`-q`).
    Terse,
    /// libtest's JSON lines.
    Json,
}

/// How the trial blocks look.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrialStyle {
    pub format: TrialFormat,
    /// ANSI colours on the outcome words.
    pub color: bool,
}

/// One tier's block being shown.
#[derive(Debug, Default)]
pub struct TrialBlock {
    style: TrialStyle,
    width: usize,
    threads: usize,
    filtered_out: usize,
    passed: usize,
    failed: usize,
    ignored: usize,
    failures: Vec<(String, String)>,
}

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

impl TrialBlock {
    /// A block of `start.count` trials whose longest id is `width` characters.
    pub fn start(
        style: TrialStyle,
        start: &TrialsStart,
        width: usize,
        w: &mut dyn Write,
    ) -> io::Result<Self> {
        let n = start.count;
        match style.format {
            TrialFormat::Json => writeln!(
                w,
                r#"{{ "type": "suite", "event": "started", "test_count": {n} }}"#
            )?,
            _ => writeln!(w, "\nrunning {n} test{}", if n == 1 { "" } else { "s" })?,
        }
        Ok(Self {
            style,
            width,
            threads: start.threads,
            filtered_out: start.filtered_out,
            ..Self::default()
        })
    }

    /// A trial began: with one thread, its line starts now (as libtest does).
    pub fn test_started(&mut self, id: &str, w: &mut dyn Write) -> io::Result<()> {
        if self.threads == 1 {
            self.announce(id, w)?;
        }
        Ok(())
    }

    fn announce(&self, id: &str, w: &mut dyn Write) -> io::Result<()> {
        match self.style.format {
            TrialFormat::Pretty => write!(w, "test {id:<0$} ... ", self.width),
            TrialFormat::Terse => Ok(()),
            TrialFormat::Json => writeln!(
                w,
                r#"{{ "type": "test", "event": "started", "name": {} }}"#,
                json_str(id)
            ),
        }
    }

    /// A trial's verdict.
    pub fn test_finished(&mut self, f: &TrialFinish, w: &mut dyn Write) -> io::Result<()> {
        let id = &f.test.id;
        if self.threads != 1 {
            self.announce(id, w)?;
        }
        let (word, color, terse, reason) = match &f.test.outcome {
            Outcome::Passed => ("ok", GREEN, '.', None),
            Outcome::Failed { .. } => ("FAILED", RED, 'F', None),
            Outcome::Ignored { .. } => ("ignored", YELLOW, 'i', None),
            Outcome::NotRun { reason } => ("ignored", YELLOW, 'i', Some(reason.as_str())),
        };
        match &f.test.outcome {
            Outcome::Passed => self.passed += 1,
            Outcome::Failed { message } => {
                self.failed += 1;
                self.failures.push((id.clone(), message.clone()));
            }
            Outcome::Ignored { .. } | Outcome::NotRun { .. } => self.ignored += 1,
        }
        let (on, off) = if self.style.color {
            (color, RESET)
        } else {
            ("", "")
        };
        match self.style.format {
            TrialFormat::Pretty => {
                let reason = reason.map(|r| format!(" ({r})")).unwrap_or_default();
                writeln!(w, "{on}{word}{reason}{off}")
            }
            TrialFormat::Terse => write!(w, "{on}{terse}{off}"),
            TrialFormat::Json => {
                let event = if word == "FAILED" { "failed" } else { word };
                let stdout = match &f.test.outcome {
                    Outcome::Failed { message } => {
                        format!(
                            r#", "stdout": {}"#,
                            json_str(&format!("Error: \"{message}\"\n"))
                        )
                    }
                    _ => String::new(),
                };
                writeln!(
                    w,
                    r#"{{ "type": "test", "name": {}, "event": "{event}"{stdout} }}"#,
                    json_str(id)
                )
            }
        }
    }

    /// The failures and the `test result:` line.
    pub fn finish(&self, f: &TrialsFinish, w: &mut dyn Write) -> io::Result<()> {
        let secs = f.duration_ms as f64 / 1000.0;
        if self.style.format == TrialFormat::Json {
            let event = if self.failed > 0 { "failed" } else { "ok" };
            return writeln!(
                w,
                r#"{{ "type": "suite", "event": "{event}", "passed": {}, "failed": {}, "ignored": {}, "measured": 0, "filtered_out": {}, "exec_time": {secs} }}"#,
                self.passed, self.failed, self.ignored, self.filtered_out
            );
        }
        if !self.failures.is_empty() {
            writeln!(w, "\nfailures:\n")?;
            for (id, message) in &self.failures {
                writeln!(w, "---- {id} ----\n{message}\n")?;
            }
            writeln!(w, "\nfailures:")?;
            for (id, _) in &self.failures {
                writeln!(w, "    {id}")?;
            }
        }
        let (word, color) = if self.failed > 0 {
            ("FAILED", RED)
        } else {
            ("ok", GREEN)
        };
        let (on, off) = if self.style.color {
            (color, RESET)
        } else {
            ("", "")
        };
        writeln!(
            w,
            "\ntest result: {on}{word}{off}. {} passed; {} failed; {} ignored; 0 measured; {} filtered out; finished in {secs:.2}s\n",
            self.passed, self.failed, self.ignored, self.filtered_out
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{TestResult, TestSource};
    use crate::spec::Tier;

    fn finish(id: &str, outcome: Outcome) -> TrialFinish {
        TrialFinish {
            tier: Tier::Install,
            test: TestResult {
                id: id.into(),
                name: id.into(),
                file: "f".into(),
                source: TestSource::Generic,
                outcome,
                duration_ms: 1,
            },
        }
    }

    fn block(style: TrialStyle, threads: usize) -> String {
        let mut w = Vec::new();
        let start = TrialsStart {
            tier: Tier::Install,
            count: 3,
            threads,
            filtered_out: 2,
        };
        let mut b = TrialBlock::start(style, &start, 5, &mut w).unwrap();
        let failed = Outcome::Failed {
            message: "boom".into(),
        };
        let stopped = Outcome::NotRun {
            reason: "not run: -x".into(),
        };
        for (id, o) in [("a", Outcome::Passed), ("bb", failed), ("c", stopped)] {
            b.test_started(id, &mut w).unwrap();
            b.test_finished(&finish(id, o), &mut w).unwrap();
        }
        let done = TrialsFinish {
            tier: Tier::Install,
            duration_ms: 1500,
        };
        b.finish(&done, &mut w).unwrap();
        String::from_utf8(w).unwrap()
    }

    #[test]
    fn pretty_block_reads_like_libtest_with_failures_and_counts() {
        let text = block(TrialStyle::default(), 1);
        assert_eq!(
            text,
            "\nrunning 3 tests\ntest a     ... ok\ntest bb    ... FAILED\ntest c     ... ignored (not run: -x)\n\
             \nfailures:\n\n---- bb ----\nboom\n\n\nfailures:\n    bb\n\
             \ntest result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 2 filtered out; finished in 1.50s\n\n"
        );
        assert_eq!(
            text,
            block(TrialStyle::default(), 4),
            "threads change only when a line starts"
        );
    }

    #[test]
    fn terse_block_prints_one_character_per_test_and_colour_only_when_asked() {
        let style = TrialStyle {
            format: TrialFormat::Terse,
            color: true,
        };
        let text = block(style, 1);
        assert!(
            text.contains("\x1b[32m.\x1b[0m\x1b[31mF\x1b[0m\x1b[33mi\x1b[0m"),
            "{text:?}"
        );
        assert!(!block(TrialStyle::default(), 1).contains('\x1b'));
    }

    #[test]
    fn json_block_is_one_json_object_per_line() {
        let style = TrialStyle {
            format: TrialFormat::Json,
            color: false,
        };
        let text = block(style, 1);
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
            .collect();
        assert_eq!(lines[0]["test_count"], 3);
        assert_eq!(lines[4]["event"], "failed");
        assert_eq!(lines[4]["stdout"], "Error: \"boom\"\n");
        assert_eq!(lines.last().unwrap()["filtered_out"], 2);
    }
}
