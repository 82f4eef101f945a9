/// A read model: folds committed events, in order, and knows the position it has applied.
///
/// Read models are values: copying one is how time travel keeps checkpoints.
public protocol Projection<Event>: Sendable {
    /// The domain's event type.
    associatedtype Event: Sendable

    /// The last position applied, 0 before any.
    var position: Int { get }

    /// Applies the next event. `envelope.position` is always `position + 1`.
    mutating func apply(_ envelope: Envelope<Event>)

    /// Applies the next committed record, decoded with `codec`. The default decodes an
    /// ``Envelope`` and applies it; a model that can read the record's bytes in place (no
    /// strings made, no metadata copied) implements this as its fast path for replays.
    mutating func apply<Codec: EventCodec>(record: RecordView, codec: Codec.Type) throws where Codec.Event == Event
}

extension Projection {
    public mutating func apply<Codec: EventCodec>(record: RecordView, codec: Codec.Type) throws
    where Codec.Event == Event {
        apply(Envelope(metadata: record.metadata, event: try Codec.decode(record)))
    }

    /// Applies every committed record of `store` from `position + 1` through `through`
    /// (default: the last), decoding with `codec`.
    public mutating func catchUp<Codec: EventCodec>(
        from store: any EventStore, codec: Codec.Type, through: Int? = nil
    ) throws where Codec.Event == Event {
        let last = min(through ?? store.lastPosition, store.lastPosition)
        guard position < last else { return }
        try store.forEachRecord(from: position + 1, through: last) { record in
            try apply(record: record, codec: Codec.self)
        }
    }
}

/// Time travel: a read model as it stood at any position, through the same projection code.
///
/// Keeps a copy of the model every `interval` events (checkpoints), so that the model at
/// position N costs one copy plus at most `interval - 1` applied events. Within the segment
/// last visited it also keeps finer checkpoints every `fineInterval` events, and it remembers
/// the last model it returned, so that stepping one event either way costs a copy and a few
/// events. Checkpoints are invisible in results: the model at N equals the plain fold of
/// events 1...N.
///
/// Threading: one thread at a time.
public final class Timeline<Model: Projection, Codec: EventCodec> where Codec.Event == Model.Event {
    private let store: any EventStore
    /// Checkpoint `k` holds the model at position `k * interval`.
    private var checkpoints: [Model]
    /// Events between checkpoints.
    public let interval: Int
    /// Events between the fine checkpoints of the segment last visited.
    public let fineInterval: Int
    private var fineSegment = -1
    private var fine: [Model] = []
    private var recent: Model?

    /// Creates a timeline over `store` starting from the empty model `empty`.
    public init(store: any EventStore, empty: Model, codec: Codec.Type, interval: Int = 4096, fineInterval: Int = 64) {
        precondition(interval > 0 && fineInterval > 0, "checkpoint intervals must be positive")
        self.store = store
        self.interval = interval
        self.fineInterval = fineInterval
        self.checkpoints = [empty]
    }

    /// Offers the model as some other fold (the live read models) has it: kept when it is the
    /// next checkpoint, so that a timeline fed this way never replays the log a second time.
    public func offer(_ model: Model) {
        if model.position == checkpoints.count * interval { checkpoints.append(model) }
    }

    /// The model as it stood at `position` (clamped to 0...lastPosition).
    public func model(at position: Int) throws -> Model {
        let target = max(0, min(position, store.lastPosition))
        if var model = recent, model.position <= target, target - model.position <= fineInterval {
            try model.catchUp(from: store, codec: Codec.self, through: target)
            recent = model
            return model
        }
        try extendCheckpoints(through: target)
        let segment = min(target / interval, checkpoints.count - 1)
        if segment != fineSegment {
            fine = [checkpoints[segment]]
            fineSegment = segment
        }
        let wanted = (target - checkpoints[segment].position) / fineInterval
        while fine.count <= wanted, var next = fine.last {
            try next.catchUp(from: store, codec: Codec.self, through: next.position + fineInterval)
            fine.append(next)
        }
        var model = fine[min(wanted, fine.count - 1)]
        try model.catchUp(from: store, codec: Codec.self, through: target)
        recent = model
        return model
    }

    /// Makes checkpoints ahead of need, folding at most about `budget` events, toward the last
    /// position: for idle moments, so that a later jump finds them made. Returns whether every
    /// checkpoint up to the last position is made.
    @discardableResult
    public func prepare(budget: Int) throws -> Bool {
        let last = store.lastPosition
        guard let reached = checkpoints.last?.position, reached + interval <= last else { return true }
        try extendCheckpoints(through: min(last, reached + max(interval, budget)))
        return (checkpoints.last?.position ?? 0) + interval > last
    }

    private func extendCheckpoints(through target: Int) throws {
        guard var model = checkpoints.last, model.position + interval <= target else { return }
        while model.position + interval <= target {
            try model.catchUp(from: store, codec: Codec.self, through: model.position + interval)
            checkpoints.append(model)
        }
    }
}
