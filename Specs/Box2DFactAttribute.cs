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
