//! A config file that cannot be read is reported with its path.

mod common;

use std::path::Path;

use common::RunConfig;
use rapt_config::ConfigError;

#[test]
fn nonexistent_file_names_the_path() {
    let path = Path::new("configs/does-not-exist.ron");
    let err = rapt_config::load::<RunConfig>(path, &[]).unwrap_err();
    assert!(matches!(&err, ConfigError::Read { path: p, .. } if p == path));
    let message = err.to_string();
    assert!(
        message.starts_with("configs/does-not-exist.ron: cannot read config file: "),
        "{message}"
    );
    assert!(std::error::Error::source(&err).is_some());
}
