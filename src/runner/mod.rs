//! The session: plan → deploy once → per tier: op once, then assertions as libtest-mimic trials →
//! teardown always. It never parses YAML itself and never talks to bollard directly.
