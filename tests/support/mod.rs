//! Shared fixtures for the integration tests. Each capability keeps its helpers in its own file here.
//! Not every test binary uses every helper.
#![allow(dead_code)]

pub mod abra;
pub mod browser;
pub mod cli;
pub mod containers;
pub mod coord;
pub mod engine;
pub mod oracle;
pub mod recipe_repo;
pub mod report;
pub mod run;
pub mod shipped;
