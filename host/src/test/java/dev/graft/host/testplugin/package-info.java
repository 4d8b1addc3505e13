/**
 * Plugin classes the tests pack into plugin jars at run time. Tests hide this package from the
 * plugin class loader's parent, so these classes load from the jars as real plugins do.
 */
package dev.graft.host.testplugin;
