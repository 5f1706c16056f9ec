//! `JWT_SECRET`, or the random one generated once and kept in `DATA_DIR/jwt_secret`.

use std::path::Path;

use rand::RngCore;
use secrecy::SecretString;

/// Shortest accepted `JWT_SECRET`, in bytes (HS256 wants at least its 256-bit output).
pub const MIN_SECRET_BYTES: usize = 32;

pub fn check_secret_length(secret: &str) -> Result<(), String> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(format!(
            "must be at least {MIN_SECRET_BYTES} bytes (got {}); generate one with `openssl rand -hex 32`",
            secret.len()
        ));
    }
    Ok(())
}

/// Keeps sessions valid across restarts of a setup that never configured a secret.
pub fn load_or_create_secret(path: &Path) -> Result<SecretString, String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim().to_owned();
        check_secret_length(&existing)
            .map_err(|m| format!("the generated secret in {} {m}", path.display()))?;
        return Ok(SecretString::from(existing));
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    write_private(path, &secret).map_err(|e| {
        format!(
            "not set, and a generated one could not be saved to {}: {e}",
            path.display()
        )
    })?;
    tracing::warn!(
        path = %path.display(),
        "JWT_SECRET is not set: generated a random secret and saved it; set JWT_SECRET for production"
    );
    Ok(SecretString::from(secret))
}

/// Writes `path` (and its folder), replacing any earlier file, readable by this user
/// only.
pub fn replace_private(path: &Path, contents: &str) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    write_private(path, contents)
}

/// Creates `path` (and its folder) readable by this user only; fails if it exists.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents.as_bytes())
}
