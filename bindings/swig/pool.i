/* SPDX-License-Identifier: MIT */
/* Support for the connection pools of the idiomatic layers (python/fastepost/pool.py,
 * ruby/lib/fastepost/pool.rb). After fork() the child must drop the connections it inherited
 * without closing them: closing sends a Terminate message on a socket the parent still uses,
 * which ends the parent's session. Python disowns the proxy (`thisown = False`); Ruby has no
 * such switch, hence conn_forget: the object's handle pointer is cleared, so the garbage
 * collector never frees (closes) it. The handle stays allocated in the child, once per fork. */
#if defined(SWIGRUBY)
%rename(conn_forget) fp_conn_forget;
%inline %{
static void fp_conn_forget(fp_obj conn_object) {
  void *handle = NULL;
  if (RB_TYPE_P(conn_object, T_DATA) &&
      SWIG_IsOK(SWIG_ConvertPtr(conn_object, &handle, SWIGTYPE_p_fastepost_conn, 0)))
    DATA_PTR(conn_object) = NULL;
}
%}
#endif
