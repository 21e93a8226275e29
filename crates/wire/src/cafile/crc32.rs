//! CRC-32 (IEEE 802.3, as zip uses it), bit by bit from a table built at compile time.

// `as` in a const context: n < 256 always fits a u32.
#[allow(clippy::cast_possible_truncation)]
const TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

pub fn of(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |c, &b| {
        TABLE[usize::from(c.to_le_bytes()[0] ^ b)] ^ (c >> 8)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_check_value() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(super::of(b"123456789"), 0xcbf4_3926);
        assert_eq!(super::of(b""), 0);
    }
}
