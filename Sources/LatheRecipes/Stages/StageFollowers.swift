import LatheSupport

/// The ranks other than 0 during `lathe run` under a launcher. Rank 0 runs the recipe as one process would, every
/// stage and every write; at each stage the ranks share it broadcasts an announcement, and every other rank joins
/// that stage as a follower (`follow`): cleaning (`CleaningPipeline` shards each batch), training
/// (`TrainStage.followTraining`) and evaluation (`Evaluator` shards the documents). A cached or skipped stage is
/// never announced. At the end rank 0 releases the followers (`release`); a failure on any rank ends the job.
///
/// Announcement: u8 kind, then for `train` the trainer's state (`TrainStage.startMessage`) and for `evaluate` the
/// adapter directory in UTF-8.
public enum StageFollowers {
    /// What an announcement starts.
    enum Kind: UInt8 {
        case done = 0, train = 1, clean = 2, evaluate = 3
    }

    /// On a rank other than 0: joins every stage rank 0 announces, until it announces the end of the run.
    public static func follow(_ loaded: LoadedRecipe, plan: StagePlan, communicator: any Communicator) throws {
        while true {
            let message = try communicator.broadcast([])
            switch message.first.flatMap(Kind.init) {
            case .done?:
                return
            case .clean?:
                try CleanStage.clean(loaded, outputDirectory: loaded.runDirectory, communicator: communicator)
            case .train?:
                try TrainStage.followTraining(message, loaded, plan: plan, communicator: communicator)
            case .evaluate?:
                let adapter = String(decoding: message.dropFirst(), as: UTF8.self)
                _ = try EvaluateStage.evaluate(loaded, adapter: adapter, communicator: communicator, folder: nil)
            case nil:
                throw CommunicatorError.malformed(operation: "stage announcement", rank: communicator.rank,
                                                  detail: "unknown kind \(message.first.map { String($0) } ?? "(empty)")")
            }
        }
    }

    /// On rank 0, after the run (complete or partial): ends the followers' wait.
    public static func release(_ communicator: any Communicator) throws {
        guard communicator.size > 1 else { return }
        _ = try communicator.broadcast([Kind.done.rawValue])
    }
}
