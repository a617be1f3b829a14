"""The engine: compose a run's config, check it, fit the model to its data, build, fit, test,
keep the run folder, and a quiet console (`run`, `checks`, `fitting`, `presets`, `console`).
`zoo.training.presets` needs omegaconf alone, so `zoo.create_model` stays free of Hydra."""
