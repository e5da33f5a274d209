//! Buffers, dispatches and read-back for one packed chunk.

use std::time::{Duration, Instant};

use rayon::prelude::*;
use wgpu::util::DeviceExt;

use super::batch::PackedBatch;
use super::contract::{self, BufferKind, Params};
use super::{GpuEngine, SHADER_SOURCE, TWIN_SHADER_SOURCE};
use crate::error::{Error, Result};

/// The kernels: the production module's entry points and, built only when a
/// twin test first asks, those of the twin-test module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    SelfPlay,
    Evaluate,
    Project,
    Step,
    Reduce,
}

impl Entry {
    const PRODUCTION: [Entry; 2] = [Entry::SelfPlay, Entry::Evaluate];
    const TWINS: [Entry; 3] = [Entry::Project, Entry::Step, Entry::Reduce];

    fn name(self) -> &'static str {
        match self {
            Entry::SelfPlay => contract::ENTRY_SELFPLAY,
            Entry::Evaluate => contract::ENTRY_EVALUATE,
            Entry::Project => contract::TWIN_ENTRY_PROJECT,
            Entry::Step => contract::TWIN_ENTRY_STEP,
            Entry::Reduce => contract::TWIN_ENTRY_REDUCE,
        }
    }

    fn is_twin(self) -> bool {
        Entry::TWINS.contains(&self)
    }
}

impl Params {
    pub fn for_batch(batch: &PackedBatch, k: usize) -> Params {
        Params {
            k: k as u32,
            header_off: batch.header_off,
            binom_off: batch.binom_off,
            sched_off: batch.sched_off,
            sched_len: batch.sched_len,
            pops: batch.layouts.len() as u32,
            fair: 1.0 / (k as f32 + 1.0),
            pl_step: crate::cpu::GRID_F32.step as f32,
            iters_chunk: 1,
            iters_total: 1,
            pass_end: u32::MAX,
            node_end: u32::MAX,
            ..Default::default()
        }
    }
}

/// The bind group layout of every module, from the bindings the WGSL declares.
pub(crate) fn bind_group_layout(device: &wgpu::Device) -> wgpu::BindGroupLayout {
    let entries: Vec<wgpu::BindGroupLayoutEntry> = contract::BINDINGS
        .iter()
        .map(|&(binding, kind)| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: match kind {
                    BufferKind::Uniform => wgpu::BufferBindingType::Uniform,
                    BufferKind::StorageRead => wgpu::BufferBindingType::Storage { read_only: true },
                    BufferKind::StorageReadWrite => wgpu::BufferBindingType::Storage { read_only: false },
                },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        })
        .collect();
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some("ualign"), entries: &entries })
}

pub(crate) struct Pipelines {
    pipelines: Vec<(Entry, wgpu::ComputePipeline)>,
}

impl Pipelines {
    /// The production kernels (self-play, evaluate).
    pub fn production(device: &wgpu::Device, layout: &wgpu::BindGroupLayout, adapter: &str) -> Result<Pipelines> {
        Self::build(device, layout, adapter, SHADER_SOURCE, &Entry::PRODUCTION)
    }

    /// The twin-test kernels (projection, step, metrics).
    pub fn twins(device: &wgpu::Device, layout: &wgpu::BindGroupLayout, adapter: &str) -> Result<Pipelines> {
        Self::build(device, layout, adapter, TWIN_SHADER_SOURCE, &Entry::TWINS)
    }

    fn build(
        device: &wgpu::Device,
        layout: &wgpu::BindGroupLayout,
        adapter: &str,
        source: &str,
        entries: &[Entry],
    ) -> Result<Pipelines> {
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("ualign"),
            bind_group_layouts: &[Some(layout)],
            immediate_size: 0,
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("ualign.wgsl"),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        let pipelines = entries
            .iter()
            .map(|&entry| {
                let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(entry.name()),
                    layout: Some(&pipeline_layout),
                    module: &module,
                    entry_point: Some(entry.name()),
                    compilation_options: Default::default(),
                    cache: None,
                });
                (entry, pipeline)
            })
            .collect();
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(Error::Gpu(format!("the ualign shaders failed to compile on '{adapter}': {e}")));
        }
        Ok(Pipelines { pipelines })
    }

    fn get(&self, entry: Entry) -> Option<&wgpu::ComputePipeline> {
        self.pipelines.iter().find(|(e, _)| *e == entry).map(|(_, p)| p)
    }
}

/// Wall time of one self-play call by phase, summed over its chunks: host
/// packing, buffer creation and upload, the dispatches (until the device
/// reports every population stopped), the state read-back, and decoding.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PhaseTimes {
    pub pack: Duration,
    pub upload: Duration,
    pub kernels: Duration,
    pub read_back: Duration,
    pub decode: Duration,
    /// Self-play dispatches submitted.
    pub dispatches: u32,
}

/// How long one self-play dispatch should take: long enough to amortise a
/// submission and a 4-byte read-back, short enough to stay clear of GPU
/// watchdogs (about 2 s on desktop drivers).
const DISPATCH_TARGET: Duration = Duration::from_millis(250);

impl GpuEngine {
    /// Runs `entry` over the chunk and returns the whole state buffer. For
    /// self-play it dispatches `params.iters_chunk` iterations at a time,
    /// adapting the chunk to [`DISPATCH_TARGET`], until every population has
    /// stopped (a 4-byte counter is the only read-back in between).
    /// `max_chunk` caps the iterations per dispatch (the loop budget of a
    /// software adapter).
    pub(crate) fn run(
        &self,
        entry: Entry,
        batch: &PackedBatch,
        mut params: Params,
        max_chunk: u32,
    ) -> Result<Vec<f32>> {
        params.iters_chunk = params.iters_chunk.min(max_chunk).max(1);
        params.pl_kernel = self.pl_kernel.code();
        self.check_lost()?;
        let upload_started = Instant::now();
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let invalid = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let init = |label, contents: &[u8], usage| {
            self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor { label: Some(label), contents, usage })
        };
        let params_buf =
            init("params", bytemuck::bytes_of(&params), wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST);
        let data_buf = init("data", bytemuck::cast_slice(&batch.data), wgpu::BufferUsages::STORAGE);
        let state_bytes = bytemuck::cast_slice::<f32, u8>(&batch.state);
        let state_buf = init("state", state_bytes, wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC);
        let counter_buf = init(
            "counter",
            &[0u8; 4],
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        );
        let read_state = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("state read-back"),
            size: state_bytes.len() as u64,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let read_counter = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("counter read-back"),
            size: 4,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("ualign"),
            layout: &self.layout,
            entries: &[
                wgpu::BindGroupEntry { binding: contract::BINDING_PARAMS, resource: params_buf.as_entire_binding() },
                wgpu::BindGroupEntry { binding: contract::BINDING_DATA, resource: data_buf.as_entire_binding() },
                wgpu::BindGroupEntry { binding: contract::BINDING_STATE, resource: state_buf.as_entire_binding() },
                wgpu::BindGroupEntry { binding: contract::BINDING_COUNTER, resource: counter_buf.as_entire_binding() },
            ],
        });
        let pops = batch.layouts.len() as u32;
        let pipeline = self.pipeline(entry)?;
        // Self-play times its phases: wait for the uploads, so they are timed apart.
        let timed = entry == Entry::SelfPlay;
        if timed {
            self.queue.submit([]);
            self.wait()?;
        }
        let kernels_started = Instant::now();
        let upload = kernels_started - upload_started;
        let mut dispatches = 0;
        let mut done = 0u32;
        loop {
            let started = Instant::now();
            self.queue.write_buffer(&params_buf, 0, bytemuck::bytes_of(&params));
            let mut encoder = self.device.create_command_encoder(&Default::default());
            encoder.clear_buffer(&counter_buf, 0, None);
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                pass.set_pipeline(pipeline);
                pass.set_bind_group(0, &bind_group, &[]);
                pass.dispatch_workgroups(pops, 1, 1);
            }
            encoder.copy_buffer_to_buffer(&counter_buf, 0, &read_counter, 0, 4);
            self.queue.submit([encoder.finish()]);
            dispatches += 1;
            if entry != Entry::SelfPlay {
                break;
            }
            let active = u32::from_le_bytes(self.read(&read_counter)?[..4].try_into().expect("4 bytes"));
            done += params.iters_chunk;
            if active == 0 || done >= params.iters_total {
                break;
            }
            // Scale the next chunk towards the target time (at most ×4 per step).
            let took = started.elapsed().as_secs_f64().max(1e-4);
            let scale = (DISPATCH_TARGET.as_secs_f64() / took).clamp(0.25, 4.0);
            params.iters_chunk =
                ((params.iters_chunk as f64 * scale) as u32).clamp(1, (params.iters_total - done).min(max_chunk));
        }
        let read_started = Instant::now();
        let mut encoder = self.device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(&state_buf, 0, &read_state, 0, state_bytes.len() as u64);
        self.queue.submit([encoder.finish()]);
        let state = self.read_f32(&read_state)?;
        if timed {
            let mut times = self.phase_times.lock().unwrap_or_else(|p| p.into_inner());
            times.upload += upload;
            times.kernels += read_started - kernels_started;
            times.read_back += read_started.elapsed();
            times.dispatches += dispatches;
        }
        if let Some(e) = pollster::block_on(invalid.pop()) {
            return Err(Error::Gpu(format!("the device rejected a ualign command: {e}")));
        }
        if let Some(e) = pollster::block_on(oom.pop()) {
            return Err(Error::Gpu(format!(
                "out of device memory for a chunk of {pops} populations ({} MiB of state): {e}; use fewer populations per run",
                state_bytes.len() >> 20
            )));
        }
        Ok(state)
    }

    /// The pipeline of `entry`; the twin-test module is compiled on first use.
    fn pipeline(&self, entry: Entry) -> Result<&wgpu::ComputePipeline> {
        let pipelines = if entry.is_twin() {
            let built = self.twins.get_or_init(|| {
                Pipelines::twins(&self.device, &self.layout, &self.summary.name).map_err(|e| e.to_string())
            });
            built.as_ref().map_err(|e| Error::Gpu(e.clone()))?
        } else {
            &self.pipelines
        };
        Ok(pipelines.get(entry).expect("every entry point of a module is built with it"))
    }

    /// Waits until the device has finished everything submitted.
    fn wait(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the device failed: {e}")))?;
        self.check_lost()
    }

    /// Maps a read-back buffer, waits for the device, copies its f32 values
    /// out with all cores.
    fn read_f32(&self, buffer: &wgpu::Buffer) -> Result<Vec<f32>> {
        self.map(buffer)?;
        let mapped =
            buffer.get_mapped_range(..).map_err(|e| Error::Gpu(format!("reading results back failed: {e}")))?;
        let mut out = vec![0f32; mapped.len() / 4];
        let out_bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut out);
        out_bytes.par_chunks_mut(COPY_BLOCK).zip(mapped.par_chunks(COPY_BLOCK)).for_each(|(d, s)| d.copy_from_slice(s));
        drop(mapped);
        buffer.unmap();
        Ok(out)
    }

    /// Maps a read-back buffer, waits for the device, copies the bytes out.
    fn read(&self, buffer: &wgpu::Buffer) -> Result<Vec<u8>> {
        self.map(buffer)?;
        let bytes =
            buffer.get_mapped_range(..).map_err(|e| Error::Gpu(format!("reading results back failed: {e}")))?.to_vec();
        buffer.unmap();
        Ok(bytes)
    }

    /// Maps a read-back buffer for reading and waits until it is.
    fn map(&self, buffer: &wgpu::Buffer) -> Result<()> {
        let (send, receive) = std::sync::mpsc::channel();
        buffer.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = send.send(r);
        });
        self.wait()?;
        match receive.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(Error::Gpu(format!("reading results back failed: {e}"))),
            Err(_) => return Err(Error::Gpu("reading results back timed out".into())),
        }
        Ok(())
    }
}

/// Bytes per block of the parallel read-back copy.
const COPY_BLOCK: usize = 1 << 20;
