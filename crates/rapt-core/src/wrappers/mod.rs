//! Single-env wrappers; the registry stacks them as
//! `EpisodeStatistics(TimeLimit(Checked(env)))`.

mod checked;
mod episode_statistics;
mod time_limit;

pub use checked::Checked;
pub use episode_statistics::EpisodeStatistics;
pub use time_limit::TimeLimit;

/// Forward the space and layout accessors of a wrapper to its `inner` env.
macro_rules! forward_spaces {
    () => {
        fn observation_space(&self) -> &crate::Space {
            self.inner.observation_space()
        }
        fn action_space(&self) -> &crate::Space {
            self.inner.action_space()
        }
        fn info_layout(&self) -> &crate::InfoLayout {
            self.inner.info_layout()
        }
        fn progress(&self) -> Option<f32> {
            self.inner.progress()
        }
        fn stages(&self) -> &[&'static str] {
            self.inner.stages()
        }
        fn expert_action(&mut self, action: &mut [f32]) -> bool {
            self.inner.expert_action(action)
        }
        fn task(&self) -> &str {
            self.inner.task()
        }
        fn views(&self) -> &[&'static str] {
            self.inner.views()
        }
        fn render(&self, view: &str, width: usize, height: usize, rgb: &mut Vec<u8>) -> bool {
            self.inner.render(view, width, height, rgb)
        }
    };
}
pub(crate) use forward_spaces;
