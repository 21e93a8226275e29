//! Reading what came from outside without trusting its kind or its size. A path that is
//! a FIFO, a socket or a device is refused (reading one waits for a writer that may never
//! come, or never ends: `/dev/zero`), and no more than a cap is ever read, from a file or
//! a stream. pgssl and its emulator read every outside file through here.

use std::fs::{FileType, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The bytes of the regular file at `path`, at most `cap` of them. Errors (as their
/// `Display` says, for "cannot read PATH (...)"): not found and the like as the system
/// says them; `InvalidInput` for a path that is not a regular file; `FileTooLarge` past
/// `cap`.
pub fn read(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    // Looked at before opening: opening a FIFO for reading waits for a writer, and a
    // socket cannot be opened at all (the system's word for it says nothing useful).
    refuse_special(std::fs::metadata(path)?.file_type())?;
    // Non-blocking, should the path have become a FIFO since: the open then returns at
    // once, and the look at what was opened refuses it. A regular file reads the same.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    refuse_special(file.metadata()?.file_type())?;
    read_stream(file, cap)
}

/// Open `path` for reading only when it is a regular file: a FIFO, socket or device is
/// refused at once (never waited on), as `read` refuses it. For files read a line at a
/// time (the journal), where `read`'s whole-file cap does not fit.
pub fn open_regular(path: &Path) -> io::Result<std::fs::File> {
    refuse_special(std::fs::metadata(path)?.file_type())?;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    refuse_special(file.metadata()?.file_type())?;
    Ok(file)
}

/// Refuse `path` when it exists and is not a regular file (before opening it to write:
/// appending to a FIFO would wait for a reader).
pub fn refuse_if_special(path: &Path) -> io::Result<()> {
    match std::fs::metadata(path) {
        Ok(m) => refuse_special(m.file_type()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// As `read`, as UTF-8 text (`InvalidData` when it is not).
pub fn read_to_string(path: &Path, cap: u64) -> io::Result<String> {
    utf8(read(path, cap)?)
}

/// As `read_stream`, as UTF-8 text (`InvalidData` when it is not).
pub fn read_stream_to_string(reader: impl Read, cap: u64) -> io::Result<String> {
    utf8(read_stream(reader, cap)?)
}

fn utf8(bytes: Vec<u8>) -> io::Result<String> {
    String::from_utf8(bytes).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "it is not UTF-8 text; is it the right file?",
        )
    })
}

/// At most `cap` bytes of a stream (stdin, a pipe), refused past it.
pub fn read_stream(reader: impl Read, cap: u64) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    reader.take(cap.saturating_add(1)).read_to_end(&mut out)?;
    if u64::try_from(out.len()).unwrap_or(u64::MAX) > cap {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!(
                "it is larger than {}, more than such a file ever holds",
                size(cap)
            ),
        ));
    }
    Ok(out)
}

/// Whether `e` is one of this module's refusals (a FIFO, a device, too large), rather
/// than the system's error (not found, permission denied).
pub fn is_refusal(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::InvalidInput | io::ErrorKind::FileTooLarge
    ) && e.get_ref().is_some()
}

fn refuse_special(kind: FileType) -> io::Result<()> {
    let what = if kind.is_file() {
        return Ok(());
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "something else"
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("it is {what}, not a regular file"),
    ))
}

/// A size for a person: `64 KiB`, `16 MiB`.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_reads_up_to_its_cap_and_no_further() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("f");
        std::fs::write(&path, b"0123456789").expect("write");
        assert_eq!(read(&path, 10).expect("fits"), b"0123456789");
        let e = read(&path, 9).expect_err("too large");
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert!(is_refusal(&e));
        assert!(e.to_string().contains("larger than 9 bytes"), "{e}");
        let e = read(&dir.path().join("none"), 9).expect_err("missing");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(!is_refusal(&e));
    }

    #[test]
    fn fifos_devices_and_directories_are_refused_at_once() {
        let dir = tempfile::tempdir().expect("tmp");
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        for (path, what) in [
            (fifo.as_path(), "a FIFO"),
            (Path::new("/dev/zero"), "a character device"),
            (dir.path(), "a directory"),
        ] {
            let e = read(path, 1 << 20).expect_err("refused");
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{path:?}");
            assert!(e.to_string().contains(what), "{path:?}: {e}");
        }
    }

    #[test]
    fn an_endless_stream_stops_at_the_cap() {
        let e = read_stream(io::repeat(b'x'), 1 << 10).expect_err("endless");
        assert!(e.to_string().contains("larger than 1 KiB"), "{e}");
        assert_eq!(size(16 << 20), "16 MiB");
    }
}
