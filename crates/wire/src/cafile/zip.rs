//! The console's CA download: a zip of a few small files (TencentDB-PG-SSL-CA.zip with
//! the pem, the p7b and the jks). Only what that needs: stored and deflated entries, no
//! encryption, no ZIP64, no spanning. Every count and size is capped before anything is
//! read or inflated (a zip bomb stops at the cap), every offset is checked against the
//! archive, each entry's CRC-32 is checked, and entry names are data: they pick an
//! entry by its extension and are never used as a path.

const LOCAL: u32 = 0x0403_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const END: u32 = 0x0605_4b50;
const END_LEN: usize = 22;
const CENTRAL_LEN: usize = 46;
const LOCAL_LEN: usize = 30;

/// Caps on what one archive may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub entries: usize,
    pub entry_size: usize,
    pub total_size: usize,
}

/// One entry, inflated and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The name as the archive spells it (lossy UTF-8): for choosing and for messages.
    pub name: String,
    pub data: Vec<u8>,
}

fn u16_at(b: &[u8], at: usize) -> Result<usize, String> {
    b.get(at..at + 2)
        .map(|s| usize::from(u16::from_le_bytes([s[0], s[1]])))
        .ok_or_else(|| "the zip ends inside a header".to_string())
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, String> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| "the zip ends inside a header".to_string())
}

fn usize_at(b: &[u8], at: usize) -> Result<usize, String> {
    u32_at(b, at).map(|v| usize::try_from(v).unwrap_or(usize::MAX))
}

/// The end-of-central-directory record: searched from the end, past a comment of at
/// most 64 KiB.
fn find_end(zip: &[u8]) -> Result<usize, String> {
    let last = zip
        .len()
        .checked_sub(END_LEN)
        .ok_or("too short to be a zip")?;
    let first = last.saturating_sub(0xffff);
    (first..=last)
        .rev()
        .find(|&at| u32_at(zip, at).is_ok_and(|s| s == END))
        .ok_or_else(|| "not a zip (no end of central directory)".to_string())
}

/// Every file entry of `zip`, inflated, within `limits`.
pub fn read(zip: &[u8], limits: Limits) -> Result<Vec<Entry>, String> {
    let end = find_end(zip)?;
    if u16_at(zip, end + 4)? != 0 || u16_at(zip, end + 6)? != 0 {
        return Err("a zip spanning several disks".into());
    }
    let count = u16_at(zip, end + 10)?;
    let cd_size = usize_at(zip, end + 12)?;
    let cd_offset = usize_at(zip, end + 16)?;
    if count == 0xffff || cd_offset == 0xffff_ffff {
        return Err("a ZIP64 archive (the CA's zip is a few KiB)".into());
    }
    if count > limits.entries {
        return Err(format!(
            "a zip of {count} entries (the CA's zip has 3; at most {} are read)",
            limits.entries
        ));
    }
    let cd = cd_offset
        .checked_add(cd_size)
        .and_then(|stop| zip.get(cd_offset..stop))
        .ok_or("the zip's central directory lies outside it")?;
    let mut at = 0;
    let mut total = 0usize;
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        if u32_at(cd, at)? != CENTRAL {
            return Err("a damaged zip central directory".into());
        }
        let flags = u16_at(cd, at + 8)?;
        let method = u16_at(cd, at + 10)?;
        let crc = u32_at(cd, at + 16)?;
        let packed = usize_at(cd, at + 20)?;
        let size = usize_at(cd, at + 24)?;
        let name_len = u16_at(cd, at + 28)?;
        let extra_len = u16_at(cd, at + 30)?;
        let comment_len = u16_at(cd, at + 32)?;
        let local = usize_at(cd, at + 42)?;
        let name_bytes = cd
            .get(at + CENTRAL_LEN..at + CENTRAL_LEN + name_len)
            .ok_or("the zip ends inside an entry name")?;
        let name = crate::text::sanitize(&String::from_utf8_lossy(name_bytes)).into_owned();
        at += CENTRAL_LEN + name_len + extra_len + comment_len;
        if name.ends_with('/') {
            continue; // a folder
        }
        if flags & 1 != 0 {
            return Err(format!("{name} in the zip is encrypted"));
        }
        if size > limits.entry_size {
            return Err(format!(
                "{name} in the zip would inflate to {size} bytes (at most {} are read)",
                limits.entry_size
            ));
        }
        total = total.saturating_add(size);
        if total > limits.total_size {
            return Err(format!(
                "the zip's entries would inflate past {} bytes",
                limits.total_size
            ));
        }
        if u32_at(zip, local)? != LOCAL {
            return Err(format!("{name}: a damaged zip local header"));
        }
        let data_at = local
            .checked_add(LOCAL_LEN + u16_at(zip, local + 26)? + u16_at(zip, local + 28)?)
            .ok_or("a zip offset past the end")?;
        let raw = data_at
            .checked_add(packed)
            .and_then(|stop| zip.get(data_at..stop))
            .ok_or_else(|| format!("{name} lies outside the zip"))?;
        let data = match method {
            0 => raw.to_vec(),
            8 => miniz_oxide::inflate::decompress_to_vec_with_limit(raw, size)
                .map_err(|_| format!("{name} in the zip does not inflate to its stated size"))?,
            m => return Err(format!("{name} in the zip uses compression method {m}")),
        };
        if data.len() != size {
            return Err(format!("{name} in the zip is not its stated size"));
        }
        if super::crc32::of(&data) != crc {
            return Err(format!("{name} in the zip fails its CRC-32"));
        }
        entries.push(Entry { name, data });
    }
    Ok(entries)
}

/// A zip of `files` (name, contents), deflated, dated 2026-01-01.
pub fn write(files: &[(&str, &[u8])]) -> Vec<u8> {
    const DOS_TIME: u16 = 0;
    const DOS_DATE: u16 = ((2026 - 1980) << 9) | (1 << 5) | 1;
    let small = |n: usize| u32::try_from(n).expect("CA files are a few KiB");
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in files {
        let packed = miniz_oxide::deflate::compress_to_vec(data, 6);
        let crc = super::crc32::of(data);
        let offset = small(out.len());
        let name_len = u16::try_from(name.len()).expect("names are short");
        let common = |v: &mut Vec<u8>| {
            v.extend(20u16.to_le_bytes()); // version needed: 2.0
            v.extend(0u16.to_le_bytes()); // flags
            v.extend(8u16.to_le_bytes()); // deflate
            v.extend(DOS_TIME.to_le_bytes());
            v.extend(DOS_DATE.to_le_bytes());
            v.extend(crc.to_le_bytes());
            v.extend(small(packed.len()).to_le_bytes());
            v.extend(small(data.len()).to_le_bytes());
            v.extend(name_len.to_le_bytes());
            v.extend(0u16.to_le_bytes()); // extra
        };
        out.extend(LOCAL.to_le_bytes());
        common(&mut out);
        out.extend(name.as_bytes());
        out.extend(&packed);
        central.extend(CENTRAL.to_le_bytes());
        central.extend(20u16.to_le_bytes()); // made by
        common(&mut central);
        central.extend(0u16.to_le_bytes()); // comment
        central.extend(0u16.to_le_bytes()); // disk
        central.extend(0u16.to_le_bytes()); // internal attributes
        central.extend(0u32.to_le_bytes()); // external attributes
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let count = u16::try_from(files.len()).expect("a handful of files");
    let cd_offset = small(out.len());
    let cd_size = small(central.len());
    out.extend(central);
    out.extend(END.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend(count.to_le_bytes());
    out.extend(count.to_le_bytes());
    out.extend(cd_size.to_le_bytes());
    out.extend(cd_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        entries: 16,
        entry_size: 256 << 10,
        total_size: 1 << 20,
    };

    #[test]
    fn round_trip() {
        let zip = write(&[("a.pem", b"hello"), ("dir/b.p7b", &[0u8; 1000])]);
        let entries = read(&zip, LIMITS).expect("reads");
        assert_eq!(entries.len(), 2);
        assert_eq!(
            (entries[0].name.as_str(), &entries[0].data[..]),
            ("a.pem", &b"hello"[..])
        );
        assert_eq!(entries[1].data, vec![0u8; 1000]);
    }

    #[test]
    fn a_zip_bomb_stops_at_the_cap() {
        // 10 MiB of zeros deflates to about 10 KiB: refused from its stated size...
        let big = vec![0u8; 10 << 20];
        let zip = write(&[("bomb.pem", &big)]);
        assert!(zip.len() < 64 << 10);
        assert!(read(&zip, LIMITS).unwrap_err().contains("would inflate"));
        // ...and when it lies about its size, inflating stops at the stated size.
        let mut lying = zip.clone();
        let cd = lying.len() - 22 - (46 + 8);
        lying[cd + 24..cd + 28].copy_from_slice(&1000u32.to_le_bytes());
        assert!(read(&lying, LIMITS).unwrap_err().contains("stated size"));
    }

    #[test]
    fn damage_anywhere_is_an_error_never_a_panic() {
        let zip = write(&[("a.pem", b"-----BEGIN CERTIFICATE-----"), ("b.jks", b"x")]);
        for cut in 0..zip.len() {
            let _ = read(&zip[..cut], LIMITS);
        }
        for i in 0..zip.len() {
            let mut bad = zip.clone();
            bad[i] ^= 0xff;
            let _ = read(&bad, LIMITS);
        }
        let mut data = zip.clone();
        let at = 30 + 5 + 2; // inside the first entry's deflated data
        data[at] ^= 0x55;
        assert!(read(&data, LIMITS).is_err());
        assert!(read(b"PK\x03\x04", LIMITS).is_err());
    }

    #[test]
    fn too_many_entries_are_refused() {
        let files: Vec<(String, Vec<u8>)> =
            (0..17).map(|i| (format!("{i}.pem"), vec![b'x'])).collect();
        let refs: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        assert!(
            read(&write(&refs), LIMITS)
                .unwrap_err()
                .contains("17 entries")
        );
    }
}
