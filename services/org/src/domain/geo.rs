use super::Invalid;

/// The largest geofence: a campus, not a city.
pub const MAX_RADIUS_M: i32 = 50_000;

/// A circle on the Earth within which a check-in counts as being at a location.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geofence {
    pub latitude: f64,
    pub longitude: f64,
    pub radius_m: i32,
}

impl Geofence {
    pub fn parse(latitude: f64, longitude: f64, radius_m: i64) -> Result<Self, Vec<Invalid>> {
        let mut errors = Vec::new();
        if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
            errors.push(Invalid::new("latitude", "must be between -90 and 90"));
        }
        if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
            errors.push(Invalid::new("longitude", "must be between -180 and 180"));
        }
        let radius = i32::try_from(radius_m)
            .ok()
            .filter(|r| (1..=MAX_RADIUS_M).contains(r));
        if radius.is_none() {
            errors.push(Invalid::new(
                "radius_m",
                format!("must be between 1 and {MAX_RADIUS_M} metres"),
            ));
        }
        match (errors.is_empty(), radius) {
            (true, Some(radius_m)) => Ok(Self {
                latitude,
                longitude,
                radius_m,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_and_radius_are_bounded() {
        assert!(Geofence::parse(48.85, 2.35, 150).is_ok());
        let errors = Geofence::parse(91.0, -181.0, 0).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["latitude", "longitude", "radius_m"]);
        assert!(Geofence::parse(f64::NAN, 0.0, 10).is_err());
        assert!(Geofence::parse(0.0, 0.0, i64::from(MAX_RADIUS_M) + 1).is_err());
    }
}
