//! Certificate times (RFC 5280 4.1.2.5) as seconds since the Unix epoch.

use crate::der::{Der, GENERALIZED_TIME, UTC_TIME};
use crate::error::X509Error;

/// Reads a `Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime }`.
///
/// RFC 5280 4.1.2.5.1: UTCTime is `YYMMDDHHMMSSZ`, always with seconds and `Z`; a two-digit
/// year of 50 or more means 19YY and below 50 means 20YY. RFC 5280 4.1.2.5.2:
/// GeneralizedTime is `YYYYMMDDHHMMSSZ`, with seconds, `Z` and no fraction. CAs must use
/// UTCTime through 2049, but a GeneralizedTime for an earlier year is unambiguous and is
/// accepted (as most validators do). Seconds may be 00-59: DER times carry no leap seconds.
pub(crate) fn read_time(der: &mut Der<'_>, what: &'static str) -> Result<i64, X509Error> {
    let tlv = der.any(what)?;
    let err = der.error_at(tlv.offset, what);
    let (year, rest) = match (tlv.tag, tlv.content) {
        (UTC_TIME, [y1, y2, rest @ ..]) => {
            let yy = digits(&[*y1, *y2]).ok_or(err)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, rest)
        }
        (GENERALIZED_TIME, [y1, y2, y3, y4, rest @ ..]) => {
            (digits(&[*y1, *y2, *y3, *y4]).ok_or(err)?, rest)
        }
        _ => return Err(err),
    };
    // `rest` must be exactly MMDDHHMMSSZ.
    if rest.len() != 11 || rest.last() != Some(&b'Z') {
        return Err(err);
    }
    let field = |i: usize| rest.get(i..i + 2).and_then(digits).ok_or(err);
    let (month, day) = (field(0)?, field(2)?);
    let (hour, minute, second) = (field(4)?, field(6)?, field(8)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(err);
    }
    let days = days_from_civil(i64::from(year), month, day);
    Ok(days * 86_400 + i64::from(hour * 3600 + minute * 60 + second))
}

/// Decimal digits to a number; `None` if any byte is not a digit.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |v, &c| {
        c.is_ascii_digit().then(|| v * 10 + u32::from(c - b'0'))
    })
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(tag: u8, s: &str) -> Result<i64, X509Error> {
        let mut buf = [0u8; 32];
        buf[0] = tag;
        buf[1] = s.len() as u8;
        buf[2..2 + s.len()].copy_from_slice(s.as_bytes());
        read_time(&mut Der::new(&buf[..2 + s.len()], 0), "t")
    }

    #[test]
    fn utc_time_pivot_rfc5280_4_1_2_5_1() {
        assert_eq!(parse(UTC_TIME, "700101000000Z"), Ok(0));
        assert_eq!(parse(UTC_TIME, "500101000000Z"), Ok(-631_152_000));
        assert_eq!(parse(UTC_TIME, "491231235959Z"), Ok(2_524_607_999));
        assert_eq!(parse(UTC_TIME, "181005013817Z"), Ok(1_538_703_497));
    }

    #[test]
    fn generalized_time_rfc5280_4_1_2_5_2() {
        assert_eq!(
            parse(GENERALIZED_TIME, "20500101000000Z"),
            Ok(2_524_608_000)
        );
        assert_eq!(parse(GENERALIZED_TIME, "19700101000000Z"), Ok(0));
        assert_eq!(
            parse(GENERALIZED_TIME, "99991231235959Z"),
            Ok(253_402_300_799)
        );
        assert_eq!(parse(GENERALIZED_TIME, "20000229120000Z"), Ok(951_825_600));
    }

    #[test]
    fn rejects_what_rfc5280_forbids() {
        for s in [
            "20230229000000Z", // not a leap year
            "20231301000000Z",
            "20230100000000Z",
            "20230101240000Z",
            "20230101006000Z",
            "20230101000060Z",
            "20230101000000",    // no Z
            "20230101000000.5Z", // fraction
            "202301010000Z",     // no seconds
            "2023010100000+Z",
        ] {
            assert!(parse(GENERALIZED_TIME, s).is_err(), "{s}");
        }
        assert!(parse(UTC_TIME, "2301010000Z").is_err());
        assert!(parse(UTC_TIME, "230101000000+0100").is_err());
        assert!(parse(0x04, "230101000000Z").is_err());
    }
}
