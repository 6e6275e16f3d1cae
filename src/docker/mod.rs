//! The Docker engine, through bollard: the only async module. Offers a small blocking facade
//! (`Engine`) over one shared tokio runtime, so callers on plain threads (libtest-mimic trials) never see
//! async. Owns convergence, exec, logs, backup/restore archives, teardown and the janitor. It never
//! decides what to test.
