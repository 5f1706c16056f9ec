//! The steps of password recovery: what the form holds across them, what each step
//! sends, and the step the server's answer leads to.

use leptos::prelude::*;
use shared::{
    AnswerRequest, FieldErrors, ForgotPasswordRequest, RecoveryMethod, ResetPasswordRequest,
    VerifyOtpRequest,
};

use crate::api::{self, ApiError};

#[derive(Clone, PartialEq)]
pub enum Step {
    Identify,
    /// `request_id`: the newest code request's, sent with the code so that only this
    /// visitor's own wrong guesses count against that code.
    Code {
        request_id: String,
    },
    Question {
        flow_token: String,
        question: String,
    },
    NewPassword {
        reset_token: String,
    },
}

/// The values typed in so far; later steps need earlier ones (the identifier, say).
#[derive(Clone, Copy)]
pub struct RecoveryForm {
    pub method: RwSignal<RecoveryMethod>,
    pub identifier: RwSignal<String>,
    pub code: RwSignal<String>,
    pub answer: RwSignal<String>,
    pub password: RwSignal<String>,
}

impl RecoveryForm {
    pub fn new() -> Self {
        let s = || RwSignal::new(String::new());
        Self {
            method: RwSignal::new(RecoveryMethod::Email),
            identifier: s(),
            code: s(),
            answer: s(),
            password: s(),
        }
    }

    /// The request for a code, as the first step has it.
    pub fn forgot_request(&self) -> ForgotPasswordRequest {
        ForgotPasswordRequest {
            method: self.method.get_untracked(),
            identifier: self.identifier.get_untracked(),
        }
    }

    /// The request of `step`, checked by the shared validator.
    pub fn submission(&self, step: Step) -> Result<Submission, FieldErrors> {
        match step {
            Step::Identify => {
                let request = self.forgot_request();
                request.validate().map(|_| Submission::Identify(request))
            }
            Step::Code { request_id } => {
                let request = VerifyOtpRequest {
                    method: self.method.get_untracked(),
                    identifier: self.identifier.get_untracked(),
                    otp: self.code.get_untracked(),
                    request_id: Some(request_id),
                };
                request.validate().map(|_| Submission::Code(request))
            }
            Step::Question { flow_token, .. } => {
                let request = AnswerRequest {
                    flow_token,
                    security_answer: self.answer.get_untracked(),
                };
                request.validate().map(|_| Submission::Answer(request))
            }
            Step::NewPassword { reset_token } => {
                let request = ResetPasswordRequest {
                    reset_token,
                    new_password: self.password.get_untracked(),
                };
                let identifier = self.identifier.get_untracked();
                request
                    .validate(&[identifier.as_str()])
                    .map(|_| Submission::Reset(request))
            }
        }
    }
}

/// What one step sends.
#[derive(Clone)]
pub enum Submission {
    Identify(ForgotPasswordRequest),
    Code(VerifyOtpRequest),
    Answer(AnswerRequest),
    Reset(ResetPasswordRequest),
}

/// Sends one step; the answer is the step it leads to (`None`: the password is reset).
pub async fn send(submission: Submission) -> Result<Option<Step>, ApiError> {
    let next = match submission {
        Submission::Identify(request) => {
            let requested = api::forgot_password(&request).await?;
            Step::Code {
                request_id: requested.request_id,
            }
        }
        Submission::Code(request) => {
            let found = api::verify_otp(&request).await?;
            Step::Question {
                flow_token: found.flow_token,
                question: found.security_question,
            }
        }
        Submission::Answer(request) => {
            let found = api::answer(&request).await?;
            Step::NewPassword {
                reset_token: found.reset_token,
            }
        }
        Submission::Reset(request) => {
            api::reset_password(&request).await?;
            return Ok(None);
        }
    };
    Ok(Some(next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_goes_with_the_newest_request_id() {
        let form = RecoveryForm::new();
        form.identifier.set("ada@example.com".into());
        form.code.set("042917".into());
        let step = Step::Code {
            request_id: "newest".into(),
        };
        let Ok(Submission::Code(request)) = form.submission(step) else {
            panic!("a code submission");
        };
        assert_eq!(request.request_id.as_deref(), Some("newest"));
        assert_eq!(request.otp, "042917");
    }
}
