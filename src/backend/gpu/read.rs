//! Reading buffers back on the wgpu backend: a copy into a mappable staging buffer, then
//! its mapping — waited for natively, awaited in a browser, or started now and awaited
//! after later work is submitted (a read in flight).

use super::GpuBackend;
use crate::backend::{Backend, BufId, PendingRead, PendingWords};
use crate::error::{Error, Result};

/// A read in flight: the staging buffer being mapped and where the mapping reports.
struct InFlightRead {
    staging: wgpu::Buffer,
    words: usize,
    rx: futures_channel::oneshot::Receiver<std::result::Result<(), wgpu::BufferAsyncError>>,
}

impl InFlightRead {
    /// Asks for the mapping of a staging buffer of `words` words.
    fn map((staging, words): (wgpu::Buffer, usize)) -> InFlightRead {
        let (tx, rx) = futures_channel::oneshot::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        InFlightRead { staging, words, rx }
    }
}

impl GpuBackend {
    /// Submits what is pending and copies `buf` into a new mappable buffer.
    pub(super) fn start_read(&mut self, buf: BufId) -> Result<(wgpu::Buffer, usize)> {
        if !self.pending.is_empty() {
            self.submit()?;
        }
        let words = self.len(buf);
        let bytes = (words.max(1) * 4) as u64;
        self.counters.allocations += 1;
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        let (root, at, _) = self.span(buf);
        enc.copy_buffer_to_buffer(self.buffer(root), (at * 4) as u64, &staging, 0, bytes);
        self.queue.submit([enc.finish()]);
        Ok((staging, words))
    }

    /// The words of a mapped staging buffer (`mapped`: how its mapping ended, if it did).
    pub(super) fn finish_read(
        &mut self,
        staging: wgpu::Buffer,
        words: usize,
        mapped: Option<std::result::Result<(), wgpu::BufferAsyncError>>,
    ) -> Result<Vec<u32>> {
        self.check_errors()?;
        match mapped {
            Some(Ok(())) => {}
            Some(Err(e)) => return Err(Error::Gpu(format!("reading a buffer back: {e}"))),
            None => return Err(Error::Gpu("buffer map did not complete".into())),
        }
        let view = staging
            .slice(..)
            .get_mapped_range()
            .map_err(|e| Error::Gpu(format!("reading a buffer back: {e}")))?;
        let out: Vec<u32> = bytemuck::cast_slice(&view[..])[..words].to_vec();
        drop(view);
        staging.unmap();
        self.counters.readback_bytes += 4 * words as u64;
        Ok(out)
    }

    /// Waits until the device has done everything submitted (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub(super) fn wait(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map(|_| ())
            .map_err(|e| Error::Gpu(format!("waiting for the device: {e}")))
    }

    /// [`Backend::read_words`]: blocks until the copy is mapped (natively; a browser
    /// cannot block).
    pub(super) fn read_blocking(&mut self, buf: BufId) -> Result<Vec<u32>> {
        #[cfg(target_arch = "wasm32")]
        return Err(Error::Gpu(format!(
            "a blocking read of buffer {buf:?} in a browser: use the asynchronous reads"
        )));
        #[cfg(not(target_arch = "wasm32"))]
        {
            let (staging, words) = self.start_read(buf)?;
            let slot = std::sync::Arc::new(std::sync::Mutex::new(None));
            let s2 = slot.clone();
            staging
                .slice(..)
                .map_async(wgpu::MapMode::Read, move |r| *s2.lock().unwrap() = Some(r));
            self.wait()?;
            let mapped = slot.lock().unwrap().take();
            self.finish_read(staging, words, mapped)
        }
    }

    /// [`Backend::start_read_words`]: the copy submitted and its mapping asked for.
    pub(super) fn start_read_in_flight(&mut self, buf: BufId) -> PendingRead {
        match self.start_read(buf).map(InFlightRead::map) {
            Ok(read) => PendingRead(PendingWords::InFlight(Box::new(read))),
            Err(e) => PendingRead(PendingWords::Ready(Err(e))),
        }
    }

    /// [`Backend::finish_read_words`].
    pub(super) async fn finish_read_in_flight(&mut self, read: PendingRead) -> Result<Vec<u32>> {
        let read = match read.0 {
            PendingWords::Ready(words) => return words,
            PendingWords::InFlight(any) => any
                .downcast::<InFlightRead>()
                .map_err(|_| Error::Gpu("a read started on another backend".into()))?,
        };
        self.finish_in_flight(*read).await
    }

    /// [`Backend::read_words_async`]: started and finished at once.
    pub(super) async fn read_async(&mut self, buf: BufId) -> Result<Vec<u32>> {
        let read = InFlightRead::map(self.start_read(buf)?);
        self.finish_in_flight(read).await
    }

    /// Waits for a read's mapping (natively the device is polled here; in a browser the
    /// event loop maps it) and takes its words.
    async fn finish_in_flight(&mut self, read: InFlightRead) -> Result<Vec<u32>> {
        #[cfg(not(target_arch = "wasm32"))]
        self.wait()?;
        let mapped = read.rx.await.ok();
        self.finish_read(read.staging, read.words, mapped)
    }
}
