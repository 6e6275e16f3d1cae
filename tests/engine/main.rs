//! Integration tests: engine. One binary, one module per capability.

#[path = "../support/mod.rs"]
mod support;

mod backup_postgres;
mod docker_backup;
mod docker_connect;
mod docker_exec;
mod docker_janitor;
mod images;
mod stack_deploy;
