//! Random identifiers from the operating system's generator.

/// `n` random bytes. The OS generator failing is not something pgssl can recover from
/// meaningfully, so fall back to time-derived bytes rather than panic.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    if getrandom::fill(&mut buf).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let bytes = nanos.to_le_bytes();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = bytes[i % 16] ^ u8::try_from(i % 256).unwrap_or(0).wrapping_mul(151);
        }
    }
    buf
}

pub fn random_u64() -> u64 {
    u64::from_le_bytes(random_bytes::<8>())
}

/// A random (version 4) UUID in its usual text form.
pub fn uuid4() -> String {
    let mut b = random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Random characters from `alphabet`, e.g. for generated demo credentials.
pub fn random_string(len: usize, alphabet: &[u8]) -> String {
    (0..len)
        .map(|_| {
            let i = usize::try_from(random_u64() % alphabet.len() as u64).unwrap_or(0);
            char::from(alphabet[i])
        })
        .collect()
}

/// Instance ids look like `postgres-5gevh7gr` (primary) or `pgro-5gevh7gr` (read-only).
pub fn instance_id(input: &str) -> Result<String, String> {
    let id = input.trim();
    let ok = ["postgres-", "pgro-"].iter().any(|prefix| {
        id.strip_prefix(prefix).is_some_and(|rest| {
            rest.len() == 8
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
    });
    if ok {
        Ok(id.to_string())
    } else {
        Err(format!(
            "'{}' is not an instance id: expected postgres- or pgro- followed by 8 lowercase letters or digits (e.g. postgres-5gevh7gr)",
            crate::text::sanitize(input)
        ))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn uuid_shape() {
        let u = super::uuid4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, super::uuid4());
    }
}
