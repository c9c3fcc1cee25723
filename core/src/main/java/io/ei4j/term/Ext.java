package io.ei4j.term;

/** Tag bytes of the external term format ({@code erl_ext_dist}). */
final class Ext {
  static final int VERSION = 131;
  static final int COMPRESSED = 80;
  static final int NEW_FLOAT = 70;
  static final int BIT_BINARY = 77;
  static final int ATOM_CACHE_REF = 82;
  static final int NEW_PID = 88;
  static final int NEW_PORT = 89;
  static final int NEWER_REFERENCE = 90;
  static final int SMALL_INTEGER = 97;
  static final int INTEGER = 98;
  static final int FLOAT = 99;
  static final int ATOM = 100;
  static final int REFERENCE = 101;
  static final int PORT = 102;
  static final int PID = 103;
  static final int SMALL_TUPLE = 104;
  static final int LARGE_TUPLE = 105;
  static final int NIL = 106;
  static final int STRING = 107;
  static final int LIST = 108;
  static final int BINARY = 109;
  static final int SMALL_BIG = 110;
  static final int LARGE_BIG = 111;
  static final int NEW_FUN = 112;
  static final int EXPORT = 113;
  static final int NEW_REFERENCE = 114;
  static final int SMALL_ATOM = 115;
  static final int MAP = 116;
  static final int FUN = 117;
  static final int ATOM_UTF8 = 118;
  static final int SMALL_ATOM_UTF8 = 119;
  static final int V4_PORT = 120;
  static final int LOCAL = 121;

  private Ext() {}

  /** A readable name for a tag byte, for error messages. */
  static String name(int tag) {
    switch (tag) {
      case COMPRESSED: return "COMPRESSED (80)";
      case NEW_FLOAT: return "NEW_FLOAT_EXT (70)";
      case BIT_BINARY: return "BIT_BINARY_EXT (77)";
      case ATOM_CACHE_REF: return "ATOM_CACHE_REF (82)";
      case NEW_PID: return "NEW_PID_EXT (88)";
      case NEW_PORT: return "NEW_PORT_EXT (89)";
      case NEWER_REFERENCE: return "NEWER_REFERENCE_EXT (90)";
      case SMALL_INTEGER: return "SMALL_INTEGER_EXT (97)";
      case INTEGER: return "INTEGER_EXT (98)";
      case FLOAT: return "FLOAT_EXT (99)";
      case ATOM: return "ATOM_EXT (100)";
      case REFERENCE: return "REFERENCE_EXT (101)";
      case PORT: return "PORT_EXT (102)";
      case PID: return "PID_EXT (103)";
      case SMALL_TUPLE: return "SMALL_TUPLE_EXT (104)";
      case LARGE_TUPLE: return "LARGE_TUPLE_EXT (105)";
      case NIL: return "NIL_EXT (106)";
      case STRING: return "STRING_EXT (107)";
      case LIST: return "LIST_EXT (108)";
      case BINARY: return "BINARY_EXT (109)";
      case SMALL_BIG: return "SMALL_BIG_EXT (110)";
      case LARGE_BIG: return "LARGE_BIG_EXT (111)";
      case NEW_FUN: return "NEW_FUN_EXT (112)";
      case EXPORT: return "EXPORT_EXT (113)";
      case NEW_REFERENCE: return "NEW_REFERENCE_EXT (114)";
      case SMALL_ATOM: return "SMALL_ATOM_EXT (115)";
      case MAP: return "MAP_EXT (116)";
      case FUN: return "FUN_EXT (117)";
      case ATOM_UTF8: return "ATOM_UTF8_EXT (118)";
      case SMALL_ATOM_UTF8: return "SMALL_ATOM_UTF8_EXT (119)";
      case V4_PORT: return "V4_PORT_EXT (120)";
      case LOCAL: return "LOCAL_EXT (121)";
      case VERSION: return "version byte (131)";
      default: return "unknown tag " + tag;
    }
  }
}
