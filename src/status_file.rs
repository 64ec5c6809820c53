//! `--status-file PATH`: where the run's JSON summary is written when rein exits.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Checks before the child runs that `path`'s directory exists, so a typo fails early (125)
/// instead of after an hour-long CI job.
pub fn check_status_dir(path: &Path) -> Result<(), String> {
    let dir = parent_dir(path);
    match fs::metadata(&dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(format!(
            "cannot write status file '{}': '{}' is not a directory",
            path.display(),
            dir.display()
        )),
        Err(e) => Err(format!(
            "cannot write status file '{}': {}: {e}",
            path.display(),
            dir.display()
        )),
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes `contents` to `path` atomically: a temporary file in the same directory, then
/// `rename` over `path`, so a reader sees the old file or the whole new one, never half.
pub fn write_atomically(path: &Path, contents: &str) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".rein-{}.tmp", std::process::id()));
    let tmp = parent_dir(path).join(tmp_name);
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(contents.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_dir_must_exist() {
        assert!(
            check_status_dir(Path::new("/nonexistent-rein-dir/x.json"))
                .unwrap_err()
                .contains("/nonexistent-rein-dir")
        );
        assert!(check_status_dir(Path::new("/tmp/x.json")).is_ok());
        assert!(check_status_dir(Path::new("relative.json")).is_ok());
    }
}
