use std::process::ExitCode;

use clap::Parser;

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = backend::cli::Cli::parse();
    match backend::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line, cause chain included; never a backtrace.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
