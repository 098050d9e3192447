//! Where an axis puts its ticks and how it writes them: 1-2-5 steps on linear axes (whole
//! numbers only where the axis counts epochs), powers of ten on log axes (with 2 and 5
//! between them when the axis spans little), labels that never repeat one another.

/// Ticks of a linear axis over `lo..=hi`: about `target` of them at 1, 2 or 5 × 10ᵏ
/// apart; with `integer` never closer than 1 and always whole.
pub fn linear(lo: f64, hi: f64, integer: bool, target: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi < lo {
        return Vec::new();
    }
    let step = step_of(hi - lo, integer, target);
    let first = (lo / step).ceil();
    let last = (hi / step + 1e-9).floor();
    let n = (last - first).max(-1.0) as i64 + 1;
    (0..n.min(1000))
        .map(|i| {
            let v = (first + i as f64) * step;
            // Round away the representation error (0.30000000000000004 → 0.3).
            let decimals = decimals_of(step) as i32;
            let k = 10f64.powi(decimals);
            (v * k).round() / k
        })
        .collect()
}

/// The 1-2-5 step that puts about `target` ticks on `span`.
pub fn step_of(span: f64, integer: bool, target: usize) -> f64 {
    let raw = if span > 0.0 {
        span / target.max(1) as f64
    } else {
        1.0
    };
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw * 0.999)
        .unwrap_or(10.0 * mag);
    if integer {
        step.max(1.0).round()
    } else {
        step
    }
}

/// The decimals a label needs at this tick spacing.
pub fn decimals_of(step: f64) -> usize {
    if step >= 1.0 || step <= 0.0 {
        0
    } else {
        ((-step.log10()).ceil() as usize).min(12)
    }
}

/// A linear axis label at tick spacing `step`.
pub fn linear_label(v: f64, step: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e5 || v.abs() < 1e-4) {
        return format!("{v:.1e}");
    }
    format!("{v:.*}", decimals_of(step))
}

/// Ticks of a log axis over `lo..=hi` (both > 0): the powers of ten inside it (every
/// second or third when they are many), with 2× and 5× between them when fewer than three
/// powers fit.
pub fn log(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi >= lo && hi.is_finite()) {
        return Vec::new();
    }
    let (a, b) = (lo.log10().ceil() as i32, (hi.log10() + 1e-9).floor() as i32);
    let decades: Vec<i32> = (a..=b).collect();
    if decades.len() >= 3 {
        let every = decades.len().div_ceil(8);
        return decades
            .iter()
            .filter(|k| k.rem_euclid(every as i32) == 0)
            .map(|&k| 10f64.powi(k))
            .collect();
    }
    let mut v = Vec::new();
    for k in (a - 1)..=(b + 1) {
        for m in [1.0, 2.0, 5.0] {
            let x = m * 10f64.powi(k);
            if x >= lo * (1.0 - 1e-9) && x <= hi * (1.0 + 1e-9) {
                v.push(x);
            }
        }
    }
    v
}

/// A log axis label: plain for 0.001 to 10,000, else `2e-5`.
pub fn log_label(v: f64) -> String {
    if (1e-3..1e4).contains(&v) {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        let k = v.log10().floor();
        let m = (v / 10f64.powf(k)).round();
        format!("{m}e{k}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_axes_tick_whole_numbers_once() {
        assert_eq!(linear(1.0, 5.0, true, 8), vec![1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(
            linear(1.0, 30.0, true, 8),
            vec![5.0, 10.0, 15.0, 20.0, 25.0, 30.0]
        );
        let two = linear(1.0, 2.0, true, 8);
        assert_eq!(two, vec![1.0, 2.0]);
        let labels: Vec<String> = linear(1.0, 9.0, true, 8)
            .iter()
            .map(|v| linear_label(*v, 1.0))
            .collect();
        let mut dedup = labels.clone();
        dedup.dedup();
        assert_eq!(labels, dedup, "no label twice");
    }

    #[test]
    fn linear_axes_step_by_one_two_five() {
        assert_eq!(
            linear(0.0, 1.0, false, 5),
            vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
        );
        assert_eq!(linear(0.45, 0.61, false, 6), vec![0.45, 0.5, 0.55, 0.6]);
        assert_eq!(linear_label(0.3, 0.1), "0.3");
        assert_eq!(linear_label(0.05, 0.05), "0.05");
        assert!(linear(2.0, 1.0, false, 5).is_empty());
    }

    #[test]
    fn log_axes_label_each_power_once() {
        assert_eq!(log(0.05, 20.0), vec![0.1, 1.0, 10.0]);
        assert_eq!(log(0.3, 4.0), vec![0.5, 1.0, 2.0]);
        let many = log(1e-12, 1e3);
        assert!(many.len() <= 8 && many.contains(&1.0), "{many:?}");
        assert_eq!(log_label(10.0), "10");
        assert_eq!(log_label(0.001), "0.001");
        assert_eq!(log_label(2e-5), "2e-5");
        assert_eq!(log_label(1e6), "1e6");
        assert!(log(0.0, 1.0).is_empty());
    }
}
