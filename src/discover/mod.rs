//! Discovery: finds generic tier tests, overlays and repo-local files, and applies the trust gate
//! (allowlist or grant, default deny). It reads files; it never deploys or runs them.
