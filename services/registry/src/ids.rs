//! Identifier checks: the resident identity number (GB 11643-1999) and the
//! unified social credit code (GB 32100-2015). Each returns the reason a
//! value is wrong, naming the standard.

/// ISO 7064 MOD 11-2 weights of GB 11643, and the check character for each
/// remainder.
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";
/// GB 32100's 31 characters and the weights 3^i mod 31.
const CODE_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CODE_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// GB 11643: 17 digits, then a check character over them (ISO 7064
/// MOD 11-2), `X` standing for 10. The first two digits are a province code
/// and digits 7-14 a real birth date.
pub fn check_resident_id(id: &str) -> Result<(), String> {
    let bytes = id.as_bytes();
    if bytes.len() != 18 {
        return Err(format!(
            "must be 18 characters (GB 11643), got {}",
            id.chars().count()
        ));
    }
    if !bytes[..17].iter().all(u8::is_ascii_digit) {
        return Err("the first 17 characters must be digits (GB 11643)".into());
    }
    let expected = resident_id_with_check(&id[..17])
        .map(|full| full.as_bytes()[17])
        .unwrap_or(b'?');
    let given = bytes[17].to_ascii_uppercase();
    if given != expected {
        return Err(format!(
            "check character is {}, expected {} (GB 11643): the number is mistyped",
            bytes[17] as char, expected as char
        ));
    }
    let province = &id[..2];
    if ce_proto::reference::region(province).is_none() || province == "66" {
        return Err(format!(
            "begins with {province}, which is no province code (GB/T 2260)"
        ));
    }
    let (y, m, d) = (&id[6..10], &id[10..12], &id[12..14]);
    let date = format!("{y}-{m}-{d}");
    match ce_server::dates::parse(&date) {
        Ok(birth) if birth.year() >= 1900 => Ok(()),
        _ => Err(format!(
            "birth date {date} in characters 7-14 is not a real date (GB 11643)"
        )),
    }
}

/// Completes 17 digits with their GB 11643 check character.
pub fn resident_id_with_check(first17: &str) -> Option<String> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = bytes
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    Some(format!(
        "{first17}{}",
        ID_CHECK[(sum % 11) as usize] as char
    ))
}

/// Completes 17 characters with their GB 32100 check character.
pub fn credit_code_with_check(first17: &str) -> Option<String> {
    let values: Option<Vec<u32>> = first17
        .bytes()
        .map(|b| CODE_ALPHABET.iter().position(|a| *a == b).map(|v| v as u32))
        .collect();
    let values = values.filter(|v| v.len() == 17)?;
    let sum: u32 = values.iter().zip(CODE_WEIGHTS).map(|(v, w)| v * w).sum();
    Some(format!(
        "{first17}{}",
        CODE_ALPHABET[((31 - sum % 31) % 31) as usize] as char
    ))
}

/// GB 32100: 18 characters from `0-9A-HJ-NPQRTUWXY`, the last a check
/// character over the first 17 (weights 3^i mod 31).
pub fn check_credit_code(code: &str) -> Result<(), String> {
    let bytes = code.as_bytes();
    if bytes.len() != 18 {
        return Err(format!(
            "must be 18 characters (GB 32100), got {}",
            code.chars().count()
        ));
    }
    let mut values = [0u32; 18];
    for (i, b) in bytes.iter().enumerate() {
        match CODE_ALPHABET.iter().position(|a| a == b) {
            Some(v) => values[i] = v as u32,
            None => {
                return Err(format!(
                    "character {} ({}) is not allowed (GB 32100 uses 0-9 and A-Y without I, O, S, V, Z)",
                    i + 1,
                    *b as char
                ));
            }
        }
    }
    let sum: u32 = values[..17]
        .iter()
        .zip(CODE_WEIGHTS)
        .map(|(v, w)| v * w)
        .sum();
    let expected = (31 - sum % 31) % 31;
    if values[17] != expected {
        return Err(format!(
            "check character is {}, expected {} (GB 32100): the code is mistyped",
            bytes[17] as char, CODE_ALPHABET[expected as usize] as char
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_resident_id_passes_and_a_lower_case_x_is_accepted() {
        assert_eq!(check_resident_id("11010519491231002X"), Ok(()));
        assert_eq!(check_resident_id("11010519491231002x"), Ok(()));
        assert_eq!(
            check_resident_id("440524188001010014"),
            Err("birth date 1880-01-01 in characters 7-14 is not a real date (GB 11643)".into())
        );
    }

    #[test]
    fn a_mistyped_resident_id_names_the_expected_check_character() {
        let err = check_resident_id("110105194912310021").unwrap_err();
        assert!(err.contains("expected X"), "{err}");
        assert!(
            check_resident_id("1101051949123100")
                .unwrap_err()
                .contains("18 characters")
        );
    }

    #[test]
    fn a_resident_id_with_an_impossible_birth_date_is_refused() {
        let id = resident_id_with_check("11010519490230002").unwrap();
        let err = check_resident_id(&id).unwrap_err();
        assert!(err.contains("1949-02-30"), "{err}");
    }

    #[test]
    fn check_characters_computed_here_satisfy_the_checks() {
        assert_eq!(
            resident_id_with_check("11010519491231002").as_deref(),
            Some("11010519491231002X")
        );
        assert_eq!(
            credit_code_with_check("91350100M000100Y4").as_deref(),
            Some("91350100M000100Y43")
        );
        assert_eq!(resident_id_with_check("1101"), None);
    }

    #[test]
    fn a_valid_credit_code_passes_and_a_wrong_check_character_is_named() {
        assert_eq!(check_credit_code("91350100M000100Y43"), Ok(()));
        let err = check_credit_code("91350100M000100Y44").unwrap_err();
        assert!(err.contains("expected 3"), "{err}");
        let err = check_credit_code("91350100M000100I43").unwrap_err();
        assert!(err.contains("not allowed"), "{err}");
    }
}
