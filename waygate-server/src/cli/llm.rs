//! The LLM flags shared by `waygate serve` (scrape jobs) and `waygate discover`.

use secrecy::SecretString;

use crate::app::LlmSettings;

/// `WAYGATE_LLM_*`: the LLM extraction uses beside the heuristics.
#[derive(Debug, clap::Args)]
pub(super) struct LlmArgs {
    /// An LLM to extract with next to the heuristics: `openai` (any OpenAI-compatible
    /// server: OpenAI, llama.cpp, vLLM, Ollama), `gemini` or `anthropic`. None by default.
    #[arg(long, env = "WAYGATE_LLM_PROVIDER")]
    llm_provider: Option<String>,
    /// The provider's base URL (`http://127.0.0.1:8081/v1` for a local llama.cpp);
    /// the vendor's public API by default.
    #[arg(long, env = "WAYGATE_LLM_BASE_URL")]
    llm_base_url: Option<String>,
    /// The model name.
    #[arg(long, env = "WAYGATE_LLM_MODEL")]
    llm_model: Option<String>,
    /// The provider's API key.
    #[arg(long, env = "WAYGATE_LLM_API_KEY", hide_env_values = true)]
    llm_api_key: Option<String>,
}

impl LlmArgs {
    /// The settings, when a provider is named.
    pub(super) fn settings(&self) -> Option<LlmSettings> {
        let provider = self
            .llm_provider
            .as_ref()
            .filter(|p| !p.trim().is_empty())?;
        Some(LlmSettings {
            provider: provider.clone(),
            base_url: self.llm_base_url.clone(),
            model: self.llm_model.clone(),
            api_key: self.llm_api_key.clone().map(SecretString::from),
        })
    }
}
