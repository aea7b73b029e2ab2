//! `vexil up`: config-api, the stream gateway, event ingest and the analytics worker in this
//! one process, the demo project on first start, and a banner saying where everything is.
//!
//! The services are the same library code their own binaries run (`platform.rs` starts them);
//! this module only wires them together, keeps what must survive a restart in the data
//! directory (`data_dir.rs`) and waits for Ctrl-C or SIGTERM.

mod banner;
mod data_dir;
mod demo;
mod platform;
mod sdk_port;
mod settings;

use anyhow::Context;

use crate::cli::UpArgs;
use data_dir::DataDir;
use platform::Platform;
use settings::Settings;

/// Runs the platform until Ctrl-C or SIGTERM, or until one of its services fails.
pub fn run(args: &UpArgs) -> anyhow::Result<()> {
    let settings = Settings::from_args(args)?;
    let data = DataDir::open(&settings.data_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let _telemetry = vexil_service::telemetry::init("vexil", &Default::default());
        let admin_token = data.admin_token()?;
        let signal = vexil_service::shutdown_on_sigterm();
        let mut platform = tokio::select! {
            started = Platform::start(&settings, &admin_token) => started?,
            _ = signal.cancelled() => return Ok(()),
        };
        let demo = match settings.create_demo {
            true => match prepare_demo(&mut platform, &admin_token, &data).await {
                Ok(demo) => Some(demo),
                Err(error) => {
                    platform.stop().await;
                    return Err(error);
                }
            },
            false => None,
        };
        println!(
            "{}",
            banner::render(&platform, &admin_token, demo.as_ref(), &data)
        );
        let outcome = platform.wait(signal).await;
        platform.stop().await;
        outcome
    })
}

/// Creates the demo unless it exists, and waits until the gateway serves it.
async fn prepare_demo(
    platform: &mut Platform,
    admin_token: &str,
    data: &DataDir,
) -> anyhow::Result<demo::Demo> {
    let demo = demo::ensure(&platform.api_url(), admin_token, data).await?;
    if let demo::Demo::Created(keys) = &demo {
        for environment in &keys.environments {
            platform.wait_for_sdk_key(&environment.sdk_key).await?;
        }
    }
    Ok(demo)
}
