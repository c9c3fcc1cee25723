package io.ei4j.testkit;

/**
 * Whether the long variants of the tests run: {@code mvn -Pthorough verify}, which sets the
 * system property {@code ei4j.thorough} to {@code true} in every test JVM. The default suite
 * runs smaller samples of the same checks so that it fits a few minutes; TESTING.md (next to
 * the root pom) lists what each test does in each mode.
 */
public final class Thorough {
  private Thorough() {}

  /** True when the thorough profile is active (system property {@code ei4j.thorough}). */
  public static boolean enabled() {
    return Boolean.getBoolean("ei4j.thorough");
  }

  /** {@code thorough} when the thorough profile is active, else {@code normal}. */
  public static <T> T pick(T normal, T thorough) {
    return enabled() ? thorough : normal;
  }
}
