//! The IDX format MNIST and Fashion-MNIST ship in, gzipped or not.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{Dataset, Samples};
use crate::error::{Error, Result};

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::Data {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// The most an IDX file may decompress to (4 GiB): a gzip bomb is an error, not an abort.
pub const MAX_IDX_BYTES: u64 = 1 << 32;

/// Reads a file, gunzipping it when it starts with the gzip magic bytes.
fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode_maybe_gz(path, raw)
}

/// Gunzips `raw` when it starts with the gzip magic bytes (at most [`MAX_IDX_BYTES`]).
pub fn decode_maybe_gz(path: &Path, raw: Vec<u8>) -> Result<Vec<u8>> {
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .take(MAX_IDX_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| bad(path, format!("corrupt gzip data: {e}")))?;
        if out.len() as u64 > MAX_IDX_BYTES {
            return Err(bad(
                path,
                format!("decompresses to more than {MAX_IDX_BYTES} bytes"),
            ));
        }
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Parses an unsigned-byte IDX file: returns its dimensions and its bytes.
pub fn parse_idx_u8(path: &Path, bytes: &[u8]) -> Result<(Vec<usize>, Vec<u8>)> {
    if bytes.len() < 4 {
        return Err(bad(path, "truncated: no IDX header"));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad(
            path,
            format!(
                "wrong magic number {:02x}{:02x}{:02x}{:02x}: not an IDX file",
                bytes[0], bytes[1], bytes[2], bytes[3]
            ),
        ));
    }
    if bytes[2] != 0x08 {
        return Err(bad(
            path,
            format!(
                "IDX element type 0x{:02x} is not unsigned bytes (0x08)",
                bytes[2]
            ),
        ));
    }
    let ndim = bytes[3] as usize;
    if ndim == 0 {
        return Err(bad(path, "IDX file with zero dimensions"));
    }
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(bad(path, "truncated: incomplete IDX header"));
    }
    let dims: Vec<usize> = (0..ndim)
        .map(|i| u32::from_be_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as usize)
        .collect();
    let count = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| bad(path, "IDX dimensions overflow"))?;
    let body = &bytes[header..];
    if body.len() < count {
        return Err(bad(
            path,
            format!(
                "truncated: header promises {count} values ({dims:?}) but {} are present",
                body.len()
            ),
        ));
    }
    if body.len() > count {
        return Err(bad(
            path,
            format!(
                "{} bytes of trailing data after {count} values",
                body.len() - count
            ),
        ));
    }
    Ok((dims, body.to_vec()))
}

/// Loads an images file (`[n, rows, cols]`) and a labels file (`[n]`) into a data set.
pub fn load_idx_pair(images: &Path, labels: &Path) -> Result<Dataset> {
    idx_pair_from_bytes(
        (images, read_maybe_gz(images)?),
        (labels, read_maybe_gz(labels)?),
    )
}

/// [`load_idx_pair`] on the files' (decompressed) bytes; the paths name them in errors.
pub fn idx_pair_from_bytes(images: (&Path, Vec<u8>), labels: (&Path, Vec<u8>)) -> Result<Dataset> {
    let (images, ibytes) = images;
    let (labels, lbytes_raw) = labels;
    let (idims, pixels) = parse_idx_u8(images, &ibytes)?;
    let (ldims, lbytes) = parse_idx_u8(labels, &lbytes_raw)?;
    if idims.len() < 2 {
        return Err(bad(
            images,
            format!("expected an images file ([n, ...]), got dimensions {idims:?}"),
        ));
    }
    if ldims.len() != 1 {
        return Err(bad(
            labels,
            format!("expected a labels file ([n]), got dimensions {ldims:?}"),
        ));
    }
    if idims[0] != ldims[0] {
        return Err(bad(
            labels,
            format!(
                "{} labels for {} images in {}",
                ldims[0],
                idims[0],
                images.display()
            ),
        ));
    }
    if idims[0] == 0 {
        return Err(bad(images, "the data set is empty"));
    }
    Dataset::new(
        Samples::U8(pixels),
        lbytes.into_iter().map(u32::from).collect(),
        idims[1..].to_vec(),
    )
}

/// The train and test sets of a folder in MNIST's layout: `train-images-idx3-ubyte[.gz]`,
/// `train-labels-idx1-ubyte[.gz]`, `t10k-…` (as MNIST and Fashion-MNIST ship them), or the
/// bundled `mnist10k-{train,test}-…` names.
pub fn load_mnist_dir(dir: &Path) -> Result<(Dataset, Dataset)> {
    let find = |stems: &[&str]| -> Result<PathBuf> {
        for stem in stems {
            for ext in ["", ".gz"] {
                let p = dir.join(format!("{stem}{ext}"));
                if p.is_file() {
                    return Ok(p);
                }
            }
        }
        Err(bad(dir, format!("no {} (or .gz) in this folder", stems[0])))
    };
    let train = load_idx_pair(
        &find(&[
            "train-images-idx3-ubyte",
            "mnist10k-train-images-idx3-ubyte",
        ])?,
        &find(&[
            "train-labels-idx1-ubyte",
            "mnist10k-train-labels-idx1-ubyte",
        ])?,
    )?;
    let test = load_idx_pair(
        &find(&["t10k-images-idx3-ubyte", "mnist10k-test-images-idx3-ubyte"])?,
        &find(&["t10k-labels-idx1-ubyte", "mnist10k-test-labels-idx1-ubyte"])?,
    )?;
    Ok((train, test))
}
