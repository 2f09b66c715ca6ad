//! `amphora admin`: account management against the configured database.

use std::io::BufRead;

use amphora_server::credentials::generate_password;
use amphora_server::{admin, open_store, Config};
use clap::Subcommand;

/// `amphora admin …`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Issuer accounts.
    #[command(subcommand)]
    Issuer(IssuerCommand),
}

/// `amphora admin issuer …`
#[derive(Debug, Subcommand)]
pub enum IssuerCommand {
    /// Create an issuer account. Without --password-stdin a password is generated and printed
    /// once.
    Add {
        /// Username (letters, digits and @ . + - _).
        username: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List issuer accounts.
    List,
    /// Set an issuer's password (revokes its tokens). Without --password-stdin a password is
    /// generated and printed once.
    SetPassword {
        /// Username.
        username: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// The password to set: read from stdin, or generated (and then printed by the caller).
fn password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if !from_stdin {
        return Ok((generate_password(), true));
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    Ok((password, false))
}

/// Runs an admin command.
pub async fn run(config: &Config, command: AdminCommand) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let AdminCommand::Issuer(command) = command;
    let result = match command {
        IssuerCommand::Add {
            username,
            password_stdin,
        } => {
            let (password, generated) = password(password_stdin)?;
            admin::add_issuer(&store, &username, &password)
                .await
                .map(|issuer| {
                    println!("created issuer '{}' (id {})", issuer.username, issuer.id);
                    if generated {
                        println!("password: {password}\n(shown only this once)");
                    }
                })
        }
        IssuerCommand::List => store.issuers().await.map_err(Into::into).map(|issuers| {
            println!("{:>6}  {:<30}  created", "id", "username");
            for issuer in issuers {
                println!(
                    "{:>6}  {:<30}  {}",
                    issuer.id,
                    issuer.username,
                    issuer.created_at.to_rfc3339()
                );
            }
        }),
        IssuerCommand::SetPassword {
            username,
            password_stdin,
        } => {
            let (password, generated) = password(password_stdin)?;
            admin::set_issuer_password(&store, &username, &password)
                .await
                .map(|()| {
                    println!("password of '{username}' changed; its tokens are revoked");
                    if generated {
                        println!("password: {password}\n(shown only this once)");
                    }
                })
        }
    };
    store.close().await;
    Ok(result?)
}
