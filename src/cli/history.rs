//! The per-epoch history CSV: written by `train --history`, drawn by `steadygrad plot`
//! (which also takes the per-step health history of `train --health`).

use std::path::{Path, PathBuf};

use steadygrad::chart::{Colours, Line, LineChart, Panel};
use steadygrad::train::{EpochLogs, History};
use steadygrad::{Error, Result};

/// The header line of an epoch history.
pub const HEADER: &str =
    "epoch,loss,accuracy,test_loss,test_accuracy,samples_per_second,learning_rate";

/// The header of histories written before the learning rate was a column (still read).
const HEADER_V1: &str = "epoch,loss,accuracy,test_loss,test_accuracy,samples_per_second";

/// The CSV text of a training history.
pub fn to_csv(history: &History) -> String {
    let mut out = format!("{HEADER}\n");
    for e in &history.epochs {
        out += &format!(
            "{},{},{},{},{},{:.1},{}\n",
            e.epoch + 1,
            e.loss,
            e.accuracy,
            e.val_loss.map(|v| v.to_string()).unwrap_or_default(),
            e.val_accuracy.map(|v| v.to_string()).unwrap_or_default(),
            e.samples_per_second,
            e.learning_rate
        );
    }
    out
}

/// Whether `text` is an epoch history (by its header).
pub fn is_epoch_history(text: &str) -> bool {
    matches!(text.lines().next().map(str::trim), Some(HEADER | HEADER_V1))
}

/// Parses an epoch history back into the logs it was written from (without the gradient
/// norms and warnings, which the file does not hold); errors name the file, the line and the
/// column.
pub fn from_csv(path: &Path, text: &str) -> Result<Vec<EpochLogs>> {
    let bad = |line: usize, reason: String| Error::Data {
        path: path.to_path_buf(),
        reason: format!("line {line}: {reason}"),
    };
    let mut lines = text.lines().enumerate();
    let header = match lines.next() {
        Some((_, h)) if matches!(h.trim(), HEADER | HEADER_V1) => h.trim(),
        _ => return Err(bad(1, format!("expected the header {HEADER}"))),
    };
    let names: Vec<&str> = header.split(',').collect();
    let mut rows = Vec::new();
    for (i, line) in lines {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != names.len() {
            return Err(bad(
                n,
                format!("{} fields, expected {}", cells.len(), names.len()),
            ));
        }
        let num = |c: usize| -> Result<Option<f64>> {
            if cells[c].is_empty() {
                return Ok(None);
            }
            match cells[c].parse::<f64>() {
                Ok(v) if v.is_finite() || names[c].contains("loss") => Ok(Some(v)),
                _ => Err(bad(
                    n,
                    format!("{}: {:?} is not a number", names[c], cells[c]),
                )),
            }
        };
        let need = |c: usize| -> Result<f64> {
            num(c)?.ok_or_else(|| bad(n, format!("{} is empty", names[c])))
        };
        let epoch = cells[0]
            .parse::<u64>()
            .ok()
            .filter(|&e| e >= 1)
            .ok_or_else(|| bad(n, format!("epoch: {:?} is not an epoch number", cells[0])))?;
        let f32_of = |v: Option<f64>| v.map(|v| v as f32);
        rows.push(EpochLogs {
            epoch: (epoch - 1) as usize,
            loss: need(1)? as f32,
            accuracy: need(2)? as f32,
            val_loss: f32_of(num(3)?),
            val_accuracy: f32_of(num(4)?),
            samples_per_second: need(5)?,
            learning_rate: if names.len() > 6 {
                need(6)? as f32
            } else {
                f32::NAN
            },
            grad_norms: Vec::new(),
            warnings: Vec::new(),
        });
    }
    if rows.is_empty() {
        return Err(bad(2, "no epochs".into()));
    }
    Ok(rows)
}

/// Writes `loss.png` (with the learning rate of each epoch in a panel under it, when the
/// history has one) and `accuracy.png` (training and, where present, validation) into
/// `dir`.
pub fn write_charts(dir: &Path, rows: &[EpochLogs]) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Io {
        path: dir.to_path_buf(),
        source: e,
    })?;
    let series = |name: &str, f: &dyn Fn(&EpochLogs) -> Option<f32>| {
        let pts: Vec<(f64, f64)> = rows
            .iter()
            .filter_map(|r| {
                f(r).filter(|v| v.is_finite())
                    .map(|v| ((r.epoch + 1) as f64, f64::from(v)))
            })
            .collect();
        (!pts.is_empty()).then(|| Line::new(name, pts))
    };
    let panel = |y: &str, lines: Vec<Option<Line>>| Panel {
        y_label: y.into(),
        log: false,
        range: None,
        lines: lines.into_iter().flatten().collect(),
    };
    let mut loss = vec![panel(
        "loss",
        vec![
            series("training loss", &|r| Some(r.loss)),
            series("validation loss", &|r| r.val_loss),
        ],
    )];
    if let Some(lr) = series("learning rate", &|r| Some(r.learning_rate)) {
        // A rate spanning decades reads on a log axis.
        let (lo, hi) = lr
            .points
            .iter()
            .fold((f64::MAX, 0f64), |(a, b), p| (a.min(p.1), b.max(p.1)));
        loss.push(Panel {
            y_label: "learning rate".into(),
            log: lo > 0.0 && hi / lo >= 20.0,
            range: None,
            lines: vec![lr],
        });
    }
    let accuracy = vec![panel(
        "accuracy",
        vec![
            series("training accuracy", &|r| Some(r.accuracy)),
            series("validation accuracy", &|r| r.val_accuracy),
        ],
    )];
    let mut out = Vec::new();
    for (file, title, panels) in [
        ("loss.png", "loss per epoch", loss),
        ("accuracy.png", "accuracy per epoch", accuracy),
    ] {
        let p = dir.join(file);
        LineChart {
            title: title.into(),
            x_label: "epoch".into(),
            integer_x: true,
            colours: Colours::Distinct,
            panels,
        }
        .write(&p)?;
        out.push(p);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_parse_and_bad_cells_name_line_and_column() {
        let p = Path::new("h.csv");
        let ok = format!("{HEADER}\n1,0.5,0.8,0.6,0.75,900.0,0.01\n2,0.4,0.85,,,950.0,0.005\n");
        let rows = from_csv(p, &ok).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].val_loss, None);
        assert_eq!(rows[1].learning_rate, 0.005);
        // Files written before the learning rate was a column still read.
        let old =
            "epoch,loss,accuracy,test_loss,test_accuracy,samples_per_second\n1,0.5,0.8,,,900\n";
        let rows = from_csv(p, old).unwrap();
        assert!(rows[0].learning_rate.is_nan());
        assert_eq!(
            rows[0].epoch, 0,
            "epochs count from 0 in the logs, from 1 in the file"
        );
        let e = from_csv(p, &format!("{HEADER}\n1,x,0.8,,,1,0.1\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("loss"), "{e}");
        let e = from_csv(p, &format!("{HEADER}\n0,1,0.8,,,1,0.1\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("epoch"), "{e}");
        assert!(from_csv(p, &format!("{HEADER}\n1,1,0.8\n")).is_err());
        assert!(from_csv(p, HEADER).is_err());
        assert!(!is_epoch_history("step,loss"));
    }
}
