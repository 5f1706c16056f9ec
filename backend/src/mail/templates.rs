//! What the application writes to people: each message in plain text and HTML, with
//! every value that came from a user escaped in the HTML part. Where each goes (and
//! whether it may) is decided in [`crate::mail::notices`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::Mailbox;

use crate::db::entity::user;
use crate::mail::Mail;

/// The stored address of `user` is not one lettre accepts (an imported oddity).
#[derive(Debug, thiserror::Error)]
#[error("the stored email of user {user_id} is not deliverable: {reason}")]
pub struct Undeliverable {
    pub user_id: i32,
    pub reason: String,
}

/// Builds the messages; knows the app's name and how long a code lives.
#[derive(Debug, Clone)]
pub struct Templates {
    pub app_name: String,
    /// Lifetime of a recovery code, as the message states it.
    pub code_ttl: Duration,
    /// The address people use (`PUBLIC_URL`), for the one link any mail carries: an
    /// invitation's sign-up form, filled in.
    pub public_url: Option<String>,
}

impl Templates {
    /// The recovery code mail (step 1 of password recovery).
    pub fn recovery_code(&self, to: Mailbox, user: &user::Model, code: &str) -> Mail {
        let app = &self.app_name;
        let minutes = self.code_ttl.as_secs().div_ceil(60);
        let name = &user.first_name;
        let text = format!(
            "Hello {name},\n\n\
             Your {app} password recovery code is:\n\n    {code}\n\n\
             It is valid for {minutes} minutes and can be used once. Enter it on the \
             recovery screen; you will then answer your security question.\n\n\
             If you did not ask to recover your password, ignore this message: your \
             password has not changed.\n\n-- {app}\n"
        );
        let html = format!(
            "<!doctype html><html><body style=\"font-family:sans-serif\">\
             <p>Hello {name},</p><p>Your {app} password recovery code is:</p>\
             <p style=\"font-size:28px;font-weight:bold;letter-spacing:6px\">{code}</p>\
             <p>It is valid for {minutes} minutes and can be used once. Enter it on the \
             recovery screen; you will then answer your security question.</p>\
             <p>If you did not ask to recover your password, ignore this message: your \
             password has not changed.</p><p>&mdash; {app}</p></body></html>",
            name = escape_html(name),
            app = escape_html(app),
        );
        Mail {
            to,
            subject: format!("Your {app} password recovery code"),
            text,
            html,
            kind: "recovery_code",
        }
    }

    /// The notice after any password change (by the user, by recovery).
    pub fn password_changed(&self, to: Mailbox, user: &user::Model) -> Mail {
        let app = &self.app_name;
        let name = &user.first_name;
        let text = format!(
            "Hello {name},\n\nThe password of your {app} account ({username}) was just \
             changed, and every session was signed out.\n\n\
             If this was not you, recover your account at once and contact your \
             administrator.\n\n-- {app}\n",
            username = user.username,
        );
        let html = format!(
            "<!doctype html><html><body style=\"font-family:sans-serif\">\
             <p>Hello {name},</p><p>The password of your {app} account ({username}) was \
             just changed, and every session was signed out.</p>\
             <p>If this was not you, recover your account at once and contact your \
             administrator.</p><p>&mdash; {app}</p></body></html>",
            name = escape_html(name),
            app = escape_html(app),
            username = escape_html(&user.username),
        );
        Mail {
            to,
            subject: format!("Your {app} password was changed"),
            text,
            html,
            kind: "password_changed",
        }
    }

    /// A second factor was turned on or off (`change` says which, and by whom).
    pub fn second_factor_changed(&self, to: Mailbox, user: &user::Model, change: &str) -> Mail {
        let app = &self.app_name;
        let name = &user.first_name;
        let text = format!(
            "Hello {name},\n\nTwo-factor sign-in of your {app} account ({username}) was \
             {change}.\n\nIf this was not you, recover your account at once and contact \
             your administrator.\n\n-- {app}\n",
            username = user.username,
        );
        let html = format!(
            "<!doctype html><html><body style=\"font-family:sans-serif\">\
             <p>Hello {name},</p><p>Two-factor sign-in of your {app} account ({username}) \
             was {change}.</p><p>If this was not you, recover your account at once and \
             contact your administrator.</p><p>&mdash; {app}</p></body></html>",
            name = escape_html(name),
            app = escape_html(app),
            username = escape_html(&user.username),
            change = escape_html(change),
        );
        Mail {
            to,
            subject: format!("Two-factor sign-in of your {app} account changed"),
            text,
            html,
            kind: "second_factor_changed",
        }
    }

    /// The code that proves `to` is the owner's address (sign-up, a new address).
    pub fn email_code(&self, to: Mailbox, user: &user::Model, code: &str) -> Mail {
        let app = &self.app_name;
        let minutes = self.code_ttl.as_secs().div_ceil(60);
        let lines = [
            format!("Hello {},", user.first_name),
            format!(
                "To confirm that this is the address of your {app} account ({}), enter this code:",
                user.username
            ),
            format!("CODE {code}"),
            format!("It is valid for {minutes} minutes and can be used once."),
            "If you did not ask for this, ignore this message: nothing changes until the \
             code is entered."
                .to_owned(),
        ];
        self.compose(
            to,
            format!("Confirm your {app} email address"),
            &lines,
            "email_code",
        )
    }

    /// To the old, verified address when a new one was asked for: what, when, from
    /// where, and what to do if it was not the owner.
    pub fn email_change_requested(
        &self,
        to: Mailbox,
        user: &user::Model,
        new_address: &str,
        at: DateTime<Utc>,
        ip: Option<&str>,
    ) -> Mail {
        let app = &self.app_name;
        let lines = [
            format!("Hello {},", user.first_name),
            format!(
                "Someone asked to change the email address of your {app} account ({}) to \
                 {new_address}, at {} from {}.",
                user.username,
                at.format("%Y-%m-%d %H:%M UTC"),
                ip.unwrap_or("an unknown address")
            ),
            "The change takes effect only when the code sent to the new address is \
             entered; until then mail keeps coming here."
                .to_owned(),
            "If this was not you, someone knows your password: change it at once, end \
             your other sessions and contact your administrator."
                .to_owned(),
        ];
        self.compose(
            to,
            format!("A new email address was requested for your {app} account"),
            &lines,
            "email_change_requested",
        )
    }

    /// To the holder of an address that someone tried to use for another account.
    pub fn address_in_use(&self, to: Mailbox, holder: &user::Model, ip: Option<&str>) -> Mail {
        let app = &self.app_name;
        let lines = [
            format!("Hello {},", holder.first_name),
            format!(
                "Someone tried to use this address, which belongs to your {app} account \
                 ({}), for another account, from {}. Nothing was changed.",
                holder.username,
                ip.unwrap_or("an unknown address")
            ),
            "If it was you, use your existing account (or recover its password). If not, \
             you can ignore this message."
                .to_owned(),
        ];
        self.compose(
            to,
            format!("Your address was used at {app}"),
            &lines,
            "address_in_use",
        )
    }

    /// An admin's invitation: the code the sign-up form asks for.
    pub fn invitation(
        &self,
        to: Mailbox,
        inviter: &str,
        code: &str,
        expires_at: DateTime<Utc>,
    ) -> Mail {
        let app = &self.app_name;
        let mut lines = vec![
            "Hello,".to_owned(),
            format!("{inviter} invites you to {app}."),
            "Sign up with this address and this invitation code:".to_owned(),
            format!("CODE {code}"),
            format!(
                "The invitation is valid until {}.",
                expires_at.format("%Y-%m-%d %H:%M UTC")
            ),
        ];
        if let Some(base) = &self.public_url {
            let address = to.email.to_string();
            lines.push(format!(
                "Or open {base}/signup?code={code}&email={} to sign up with both filled in.",
                address.replace('+', "%2B").replace('@', "%40")
            ));
        }
        lines.push("If you did not expect this, ignore this message.".to_owned());
        self.compose(
            to,
            format!("You are invited to {app}"),
            &lines,
            "invitation",
        )
    }

    /// A message of paragraphs; a paragraph `CODE 123456` shows the code large.
    fn compose(
        &self,
        to: Mailbox,
        subject: String,
        paragraphs: &[String],
        kind: &'static str,
    ) -> Mail {
        let app = &self.app_name;
        let show = |p: &str| match p.strip_prefix("CODE ") {
            Some(code) => format!("    {code}"),
            None => p.to_owned(),
        };
        let text = format!(
            "{}\n\n-- {app}\n",
            paragraphs
                .iter()
                .map(|p| show(p))
                .collect::<Vec<_>>()
                .join("\n\n")
        );
        let html_paragraph = |p: &String| match p.strip_prefix("CODE ") {
            Some(code) => format!(
                "<p style=\"font-size:28px;font-weight:bold;letter-spacing:6px\">{}</p>",
                escape_html(code)
            ),
            None => format!("<p>{}</p>", escape_html(p)),
        };
        let html = format!(
            "<!doctype html><html><body style=\"font-family:sans-serif\">{}<p>&mdash; {}</p></body></html>",
            paragraphs.iter().map(html_paragraph).collect::<String>(),
            escape_html(app)
        );
        Mail {
            to,
            subject,
            text,
            html,
            kind,
        }
    }
}

/// `name <address>`; `Err` for an address lettre does not accept (an imported
/// oddity).
pub fn mailbox(user: &user::Model, address: &str) -> Result<Mailbox, Undeliverable> {
    let parsed = address.parse().map_err(|e| Undeliverable {
        user_id: user.id,
        reason: format!("{e}"),
    })?;
    Ok(Mailbox::new(
        Some(format!("{} {}", user.first_name, user.last_name)),
        parsed,
    ))
}

fn escape_html(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape_html;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html(r#"<b>"Tom" & 'Jerry'</b>"#),
            "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
    }
}
