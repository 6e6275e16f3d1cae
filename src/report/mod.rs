//! Reports: terminal summary, JUnit XML, Markdown, results.json. Reads verdicts; never changes them.
