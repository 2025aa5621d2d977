import Script

/// The model library as the language sees it: each family of builtins with the types of value
/// it brings (masks, datasets, models, runs...), in the order the reference documents them.
public enum Library {
    public static let families: [Family] = [
        Family("Graphs", functions: GraphBuiltins.all + ImageBuiltins.all),
        Family("Masks", functions: MaskBuiltins.all + MaskPredicates.all, constants: MaskBuiltins.constants,
               types: [MaskValue.type, LayoutValue.type, MaskViewValue.type, PositionsValue.type]),
        Family("Data", functions: DataBuiltins.all, types: [PackedValue.type, ShapesValue.type]),
        Family("Datasets", functions: DatasetBuiltins.all, types: [DatasetValue.type, ExamplesValue.type]),
        Family("Tokenizer", functions: TokenizerBuiltins.all, types: [TokenizerValue.type]),
        Family("Models", functions: ModelBuiltins.all, types: [ModelValue.type, ParametersValue.type]),
        Family("Chameleon baseline", functions: ChameleonBuiltins.all, types: [CodebookValue.type]),
        Family("Training", functions: TrainingBuiltins.all + LossTerms.all + [RunExport.builtin],
               types: [ScheduleValue.type, LossValue.type, LossOutputsValue.type, RunValue.type, ProfileValue.type, FigureValue.type]),
        Family("VAE", functions: VAEBuiltins.all, types: [VAEValue.type, VAERunValue.type]),
        Family("Generation", functions: GenerationBuiltins.all, types: [ImagesValue.type, GenerationValue.type]),
        Family("Metrics", functions: MetricBuiltins.all),
        Family("Classifier", functions: ClassifierBuiltins.all, types: [ClassifierValue.type]),
    ]
}

extension Registry {
    /// Everything a tfs script reaches: the language's builtins and the model library's.
    public static let tfs = Registry.language.adding(Library.families)
}
