using Sim.Experiments.Box2D;
using Xunit;

namespace Sim.Specs;

/// <summary>
/// A <see cref="FactAttribute"/> for specs that step a Box2D world: it skips itself, with
/// <see cref="Box2DLibrary.UnavailableReason"/> ("Box2D shim not available: install libbox2d-dev and g++ …"), where the
/// shim was not built or libbox2d does not load (<c>.ci/run</c> installs both where apt is available).
/// </summary>
public sealed class Box2DFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> unless the shim loads.</summary>
    public Box2DFactAttribute()
    {
        if (Box2DLibrary.UnavailableReason is { } reason) Skip = reason;
    }
}

/// <summary>The opposite: specs of the behaviour without the shim (skipped where it loads).</summary>
public sealed class NoBox2DFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when the shim loads.</summary>
    public NoBox2DFactAttribute()
    {
        if (Box2DLibrary.Available) Skip = "the Box2D shim is present (this checks the behaviour without it)";
    }
}
