//! What the application writes to people: each message in plain text and HTML, with
//! every value that came from a user escaped in the HTML part.

use std::time::Duration;

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
}

impl Templates {
    /// The recovery code mail (step 1 of password recovery).
    pub fn recovery_code(&self, user: &user::Model, code: &str) -> Result<Mail, Undeliverable> {
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
        Ok(Mail {
            to: mailbox(user)?,
            subject: format!("Your {app} password recovery code"),
            text,
            html,
            kind: "recovery_code",
        })
    }

    /// The notice after any password change (by the user, by recovery).
    pub fn password_changed(&self, user: &user::Model) -> Result<Mail, Undeliverable> {
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
        Ok(Mail {
            to: mailbox(user)?,
            subject: format!("Your {app} password was changed"),
            text,
            html,
            kind: "password_changed",
        })
    }
}

fn mailbox(user: &user::Model) -> Result<Mailbox, Undeliverable> {
    let address = user.email.parse().map_err(|e| Undeliverable {
        user_id: user.id,
        reason: format!("{e}"),
    })?;
    Ok(Mailbox::new(
        Some(format!("{} {}", user.first_name, user.last_name)),
        address,
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
