//! A simulated sensor: temperature readings as SenML JSON (RFC 8428), one record pack per
//! line, drifting like a room's temperature does.

pub struct Sensor {
    base_name: String,
    value: f64,
    state: u64,
}

impl Sensor {
    pub fn new(device: &str) -> Sensor {
        let seed = device.bytes().fold(0x9e37_79b9_7f4a_7c15u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        Sensor {
            base_name: format!("urn:dev:mote:{device}:"),
            value: 21.0,
            state: seed | 1,
        }
    }

    /// The next reading at Unix time `t`: a SenML pack such as
    /// `[{"bn":"urn:dev:mote:0001:","n":"temperature","u":"Cel","v":21.4,"t":1764288000}]`.
    pub fn next_reading(&mut self, t: u64) -> String {
        // xorshift64: a simulation needs variety, not unpredictability.
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let step = ((self.state % 7) as f64 - 3.0) / 10.0;
        self.value = (self.value + step).clamp(15.0, 30.0);
        format!(
            "[{{\"bn\":\"{}\",\"n\":\"temperature\",\"u\":\"Cel\",\"v\":{:.1},\"t\":{t}}}]",
            self.base_name, self.value
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_are_senml_packs() {
        let mut s = Sensor::new("0001");
        let r = s.next_reading(1764288000);
        let v: serde_json::Value = serde_json::from_str(&r).unwrap();
        assert_eq!(v[0]["bn"], "urn:dev:mote:0001:");
        assert_eq!(v[0]["n"], "temperature");
        assert_eq!(v[0]["u"], "Cel");
        assert_eq!(v[0]["t"], 1764288000);
        let x = v[0]["v"].as_f64().unwrap();
        assert!((15.0..=30.0).contains(&x));
    }
}
