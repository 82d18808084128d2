import FledgeTensor

/// A layer or model whose parameters have names: it lists its own parameters and its child
/// modules, each under the name a checkpoint gives it, once, in `members`. Loading, saving, the
/// trainable set, LoRA targets and the list of what a checkpoint must hold all derive from that
/// list (see `namedParameters`, `namedModules` and `updateParameters`).
///
/// A module is built from its configuration with placeholder parameters (`Tensor.placeholder`,
/// which cost no memory) of their declared shapes; a loader then replaces each one by the tensor
/// stored under its dotted path (`model.layers.0.self_attn.q_proj.weight`).
public protocol Module: AnyObject {
    /// Shows `visitor` every parameter of this module (`visitor.parameter("weight", &weight)`)
    /// and every child module (`visitor.child("q_proj", qProj)`), in the order transformers'
    /// `named_parameters` lists them.
    func members(_ visitor: ModuleVisitor)
}

/// What `Module.members` reports to: each parameter and child, under its path from the module
/// where the walk started.
public struct ModuleVisitor {
    let prefix: String
    let visitParameter: (String, inout Tensor) -> Void
    let visitModule: (String, any Module) -> Void

    /// A parameter of the module under `name`; the walk may read it or replace it.
    public func parameter(_ name: String, _ tensor: inout Tensor) {
        visitParameter(prefix + name, &tensor)
    }

    /// A child module under `name` (a dotted path such as `layers.3` is one name); its own
    /// members follow under `name.`.
    public func child(_ name: String, _ module: any Module) {
        let path = prefix + name
        visitModule(path, module)
        module.members(ModuleVisitor(prefix: path + ".", visitParameter: visitParameter, visitModule: visitModule))
    }
}

extension Module {
    /// Calls `parameter` with every parameter's dotted path and the parameter itself, which it may
    /// replace, and `module` with every descendant module's path, depth first, in `members` order.
    public func walk(parameter: (String, inout Tensor) -> Void, module: (String, any Module) -> Void = { _, _ in }) {
        withoutActuallyEscaping(parameter) { parameter in
            withoutActuallyEscaping(module) { module in
                members(ModuleVisitor(prefix: "", visitParameter: parameter, visitModule: module))
            }
        }
    }

    /// Every parameter under its dotted path (`self_attn.q_proj.weight`), in `members` order.
    public var namedParameters: [(String, Tensor)] {
        var result: [(String, Tensor)] = []
        walk(parameter: { name, tensor in result.append((name, tensor)) })
        return result
    }

    /// Every descendant module under its dotted path (`layers.0.self_attn`), parents before their
    /// children, in `members` order (PyTorch's `named_modules` without the root).
    public var namedModules: [(String, any Module)] {
        var result: [(String, any Module)] = []
        walk(parameter: { _, _ in }, module: { name, module in result.append((name, module)) })
        return result
    }

    /// Replaces every parameter by `transform(path, parameter)`.
    public func updateParameters(_ transform: (String, Tensor) -> Tensor) {
        walk(parameter: { name, tensor in tensor = transform(name, tensor) })
    }
}
