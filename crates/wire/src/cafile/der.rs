//! Just enough DER to walk a PKCS#7 bundle and write one: one tag-length-value at a
//! time, every length checked against what is left. Multi-byte tags and BER's
//! indefinite lengths are refused (DER has neither where a CA bundle is concerned).

pub const SEQUENCE: u8 = 0x30;
pub const SET: u8 = 0x31;
pub const INTEGER: u8 = 0x02;
pub const OID: u8 = 0x06;
/// `[0]` constructed (EXPLICIT content, IMPLICIT certificates).
pub const CONTEXT_0: u8 = 0xA0;

/// One element: its tag, its contents, the whole element, and what follows it.
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub whole: &'a [u8],
    pub rest: &'a [u8],
}

/// Read the element at the start of `input`.
pub fn read(input: &[u8]) -> Result<Tlv<'_>, String> {
    let (&tag, after_tag) = input
        .split_first()
        .ok_or("the DER data ends where an element should start")?;
    if tag & 0x1f == 0x1f {
        return Err("a multi-byte DER tag (not a certificate bundle)".into());
    }
    let (&first, after_len) = after_tag
        .split_first()
        .ok_or("the DER data ends inside a length")?;
    let (len, header_rest) = match first {
        n if n < 0x80 => (usize::from(n), after_len),
        0x80 => return Err("an indefinite length (BER, not DER)".into()),
        n => {
            let count = usize::from(n & 0x7f);
            if count > 4 || count > after_len.len() {
                return Err("a DER length that does not fit".into());
            }
            let (digits, rest) = after_len.split_at(count);
            let len = digits
                .iter()
                .fold(0usize, |acc, &d| (acc << 8) | usize::from(d));
            (len, rest)
        }
    };
    if len > header_rest.len() {
        return Err("a DER element longer than the data holding it".into());
    }
    let (content, rest) = header_rest.split_at(len);
    let whole_len = input.len() - rest.len();
    Ok(Tlv {
        tag,
        content,
        whole: &input[..whole_len],
        rest,
    })
}

/// Read an element that must carry `tag`.
pub fn expect<'a>(input: &'a [u8], tag: u8, what: &str) -> Result<Tlv<'a>, String> {
    let tlv = read(input)?;
    if tlv.tag != tag {
        return Err(format!(
            "expected {what} (tag {tag:#04x}), found tag {:#04x}",
            tlv.tag
        ));
    }
    Ok(tlv)
}

/// Write one element.
pub fn write(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        // Fits in the short form by the check above.
        out.push(u8::try_from(len).expect("under 0x80"));
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let digits = &bytes[skip..];
        out.push(0x80 | u8::try_from(digits.len()).expect("a usize has at most 8 bytes"));
        out.extend_from_slice(digits);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip_and_overruns_are_refused() {
        for n in [0usize, 1, 127, 128, 255, 256, 70_000] {
            let body = vec![7u8; n];
            let enc = write(SEQUENCE, &body);
            let tlv = read(&enc).expect("reads");
            assert_eq!(
                (tlv.tag, tlv.content.len(), tlv.rest.len()),
                (SEQUENCE, n, 0)
            );
            assert_eq!(tlv.whole, &enc[..]);
            // Cut short anywhere: an error, never a panic.
            for cut in 0..enc.len().min(8) {
                assert!(read(&enc[..cut]).is_err(), "{n} cut at {cut}");
            }
        }
        assert!(read(&[0x30, 0x80, 0, 0]).is_err(), "indefinite");
        assert!(read(&[0x1f, 0x01, 0]).is_err(), "multi-byte tag");
        assert!(read(&[0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]).is_err());
        assert!(read(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
    }
}
